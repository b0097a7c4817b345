using System.Diagnostics;
using System.Text;

namespace Qmp.Client;

/// <summary>
/// A child process whose stdout and stderr are collected as they arrive, with the few controls a
/// harness needs: wait, signal, kill. Shared by <see cref="QemuMachine"/> and the functional tests.
/// </summary>
public sealed class CapturedProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();

    private CapturedProcess(Process process)
    {
        Process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The process.</summary>
    public Process Process { get; }

    /// <summary>Everything written to stdout and stderr so far, one <c>\n</c> per line.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>Starts <paramref name="binary"/>; stdin is a pipe closed at once unless <paramref name="keepStdin"/>.</summary>
    public static CapturedProcess Start(string binary, IEnumerable<string> args, bool keepStdin = false, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(binary)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (workingDirectory is not null)
            start.WorkingDirectory = workingDirectory;
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new IOException($"could not start {binary}");
        if (!keepStdin)
            process.StandardInput.Close();
        return new CapturedProcess(process);
    }

    /// <summary>Waits for the exit (and the end of its output) and returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        await Process.WaitForExitAsync(cancellationToken).WaitAsync(timeout ?? TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        return Process.ExitCode;
    }

    /// <summary>Sends <paramref name="signal"/> (15 for SIGTERM, 19 for SIGSTOP, …) if the process still runs.</summary>
    public void Signal(int signal)
    {
        if (!Process.HasExited)
            _ = Kill(Process.Id, signal);
    }

    /// <summary>SIGKILL and wait.</summary>
    public async Task KillAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await KillAsync().ConfigureAwait(false);
        Process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.Append(line).Append('\n');
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
