using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Qmp.Functional.Tests;

/// <summary>Starts real qmpd processes for tests and finds free resources for them.</summary>
internal static class Qmpd
{
    /// <summary>The qmpd executable built next to the tests.</summary>
    public static string Binary { get; } = Path.Combine(AppContext.BaseDirectory, "qmpd");

    public static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A tool the test needs from PATH, or a failure that says how to install it.</summary>
    public static string FindTool(string name, string package)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path))
                return path;
        }
        Assert.Fail($"{name} is needed for this test: run tools/setup.sh (apt-get install {package})");
        return "";
    }

    public static string TempDir() => Directory.CreateTempSubdirectory("qmpd-test-").FullName;

    /// <summary>Starts qmpd with <paramref name="args"/>, capturing its output.</summary>
    public static RunningProcess Start(IEnumerable<string> args, bool redirectStdin = true)
    {
        var start = new ProcessStartInfo(Binary)
        {
            UseShellExecute = false,
            RedirectStandardInput = redirectStdin,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        return new RunningProcess(Process.Start(start)!);
    }

    /// <summary>Waits until a unix socket accepts connections.</summary>
    public static async Task<Socket> ConnectUnixAsync(string path, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
                return socket;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                socket.Dispose();
                await Task.Delay(50);
            }
        }
    }
}

/// <summary>A started process with its output collected.</summary>
internal sealed class RunningProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();

    public RunningProcess(Process process)
    {
        Process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        await Process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
        Process.WaitForExit();
        return Process.ExitCode;
    }

    public void Signal(int signal) => _ = Kill(Process.Id, signal);

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync();
        }
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
