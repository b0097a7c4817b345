using System.Diagnostics;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Text;

namespace Qmp.Daemon;

/// <summary>
/// <c>-daemonize</c> without fork(): the parent starts a copy of itself and waits on a pipe. The
/// child detaches at once (new session, stdio on /dev/null, so no caller's pipe stays open) and
/// reports on the pipe: one byte when its monitors listen and the pidfile exists, or the error
/// that stopped start-up. The parent exits 0, or prints the error and exits 1.
/// </summary>
internal static class Daemonizer
{
    private const string ReadyVariable = "QMPD_DAEMON_READY_HANDLE";
    private const byte Ready = 1;
    private const byte Failed = 2;
    private static AnonymousPipeClientStream? _report;

    /// <summary>True in the detached child.</summary>
    public static bool IsChild => Environment.GetEnvironmentVariable(ReadyVariable) is not null || _report is not null;

    /// <summary>In the parent: starts the child and waits for its report. Returns the exit code.</summary>
    public static int RunParent(string[] args)
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.Inheritable);
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        // Under "dotnet qmpd.dll" the process path is the host; the entry assembly must follow it.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            start.ArgumentList.Add(typeof(Daemonizer).Assembly.Location);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment[ReadyVariable] = pipe.GetClientHandleAsString();
        using var child = Process.Start(start)!;
        pipe.DisposeLocalCopyOfClientHandle();
        using var report = new MemoryStream();
        pipe.CopyTo(report);
        var bytes = report.ToArray();
        if (bytes.Length > 0 && bytes[0] == Ready)
            return 0;
        if (bytes.Length > 0 && bytes[0] == Failed)
        {
            Console.Error.WriteLine(Encoding.UTF8.GetString(bytes, 1, bytes.Length - 1));
            return 1;
        }
        child.WaitForExit();
        Console.Error.WriteLine($"qmpd: the daemon exited during start-up (exit code {child.ExitCode})");
        return 1;
    }

    /// <summary>
    /// In the child, first thing: leave the caller's session and terminal and let go of its stdio.
    /// This must run before anything opens the console, because .NET's console streams hold
    /// duplicates of descriptors 0–2 that would keep the caller's pipes open.
    /// </summary>
    public static void DetachChild()
    {
        _report = new AnonymousPipeClientStream(PipeDirection.Out, Environment.GetEnvironmentVariable(ReadyVariable)!);
        Environment.SetEnvironmentVariable(ReadyVariable, null);
        _ = SetSid();
        // QEMU's daemon umask: what it creates is not world-readable (sockets come out rwxr-x---).
        _ = Umask(Convert.ToInt32("027", 8));
        var devNull = Open("/dev/null", 2);
        if (devNull < 0)
            return;
        foreach (var fd in CallerDescriptors())
            _ = Dup2(devNull, fd);
        _ = Close(devNull);
    }

    /// <summary>
    /// Descriptors 0–2 and every other descriptor open on the same pipe, terminal or file: the
    /// runtime keeps private duplicates of the standard streams, and each copy would keep the
    /// caller's pipe open as surely as descriptor 1 itself.
    /// </summary>
    private static List<int> CallerDescriptors()
    {
        static string? Target(int fd)
        {
            try
            {
                return new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
            }
            catch (IOException)
            {
                return null;
            }
        }
        var standard = new HashSet<string>(StringComparer.Ordinal);
        for (var fd = 0; fd <= 2; fd++)
        {
            if (Target(fd) is { } target && target != "/dev/null")
                standard.Add(target);
        }
        var result = new List<int> { 0, 1, 2 };
        foreach (var entry in Directory.GetFiles("/proc/self/fd"))
        {
            if (int.TryParse(Path.GetFileName(entry), out var fd) && fd > 2 && Target(fd) is { } target && standard.Contains(target))
                result.Add(fd);
        }
        return result;
    }

    /// <summary>In the child, once ready: wake the parent, which then exits 0.</summary>
    public static void SignalReady() => Report([Ready]);

    /// <summary>In the child, when start-up failed: the parent prints <paramref name="message"/> and exits 1.</summary>
    public static void SignalFailure(string message) => Report([Failed, .. Encoding.UTF8.GetBytes(message)]);

    private static void Report(byte[] bytes)
    {
        var report = Interlocked.Exchange(ref _report, null);
        if (report is null)
            return;
        report.Write(bytes);
        report.Dispose();
    }

    [DllImport("libc", EntryPoint = "setsid")]
    private static extern int SetSid();

    [DllImport("libc", EntryPoint = "umask")]
    private static extern int Umask(int mask);

    [DllImport("libc", EntryPoint = "open")]
    private static extern int Open([MarshalAs(UnmanagedType.LPStr)] string path, int flags);

    [DllImport("libc", EntryPoint = "dup2")]
    private static extern int Dup2(int oldFd, int newFd);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);
}
