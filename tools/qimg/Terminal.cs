using System.Text;

namespace Qmp.Img;

/// <summary>
/// stdout and stderr as qemu-img uses them: stdout is buffered (a map of a large image prints many lines) and
/// flushed on exit or by progress output; stderr is unbuffered, each message prefixed with the program name
/// (QEMU's error_report takes it from argv[0], so a link called qemu-img prints "qemu-img:").
/// </summary>
internal static class Terminal
{
    private static readonly Lazy<string> _programName = new(ReadProgramName);

    public static TextWriter Out { get; } = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16) { NewLine = "\n" };

    public static TextWriter Error { get; } = new StreamWriter(Console.OpenStandardError(), new UTF8Encoding(false)) { NewLine = "\n", AutoFlush = true };

    public static string ProgramName => _programName.Value;

    /// <summary>error_report: "prog: message".</summary>
    public static void Report(string message)
    {
        Out.Flush();
        Error.Write($"{ProgramName}: {message}\n");
    }

    /// <summary>warn_report: "prog: warning: message".</summary>
    public static void Warn(string message) => Report($"warning: {message}");

    // argv[0] as the process was started (the apphost's own name, or a symlink's); "dotnet qimg.dll" counts as qimg.
    private static string ReadProgramName()
    {
        try
        {
            var cmdline = System.IO.File.ReadAllBytes("/proc/self/cmdline");
            var end = Array.IndexOf(cmdline, (byte)0);
            var argv0 = Encoding.UTF8.GetString(cmdline, 0, end < 0 ? cmdline.Length : end);
            var name = Path.GetFileName(argv0);
            if (name.Length > 0 && name != "dotnet" && !name.StartsWith("testhost", StringComparison.Ordinal))
                return name;
        }
        catch (IOException)
        {
            // No procfs: fall back to the tool's own name.
        }
        return "qimg";
    }
}
