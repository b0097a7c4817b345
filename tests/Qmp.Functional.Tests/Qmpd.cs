using Qmp.Client;
using System.Net;
using System.Net.Sockets;

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
    public static CapturedProcess Start(IEnumerable<string> args, string? workingDirectory = null) =>
        CapturedProcess.Start(Binary, args, keepStdin: true, workingDirectory);

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
