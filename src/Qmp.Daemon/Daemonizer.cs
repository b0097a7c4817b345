using System.Diagnostics;
using System.IO.Pipes;
using System.Runtime.InteropServices;

namespace Qmp.Daemon;

/// <summary>
/// <c>-daemonize</c> without fork(): the parent starts a copy of itself and waits on a pipe; the
/// child detaches (new session, stdio on /dev/null) and writes one byte when its monitors listen
/// and the pidfile exists. The parent then exits 0, or 1 if the child died first.
/// </summary>
internal static class Daemonizer
{
    private const string ReadyVariable = "QMPD_DAEMON_READY_HANDLE";
    private static AnonymousPipeClientStream? _ready;

    /// <summary>True in the detached child.</summary>
    public static bool IsChild => Environment.GetEnvironmentVariable(ReadyVariable) is not null;

    /// <summary>In the parent: starts the child and waits for it to be ready. Returns the exit code.</summary>
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
        var buffer = new byte[1];
        var read = pipe.Read(buffer, 0, 1);
        if (read == 1)
            return 0;
        child.WaitForExit();
        return child.ExitCode == 0 ? 1 : child.ExitCode;
    }

    /// <summary>In the child, before the host starts: leave the parent's session and terminal.</summary>
    public static void DetachChild()
    {
        _ready = new AnonymousPipeClientStream(PipeDirection.Out, Environment.GetEnvironmentVariable(ReadyVariable)!);
        Environment.SetEnvironmentVariable(ReadyVariable, null);
        _ = SetSid();
        // QEMU's daemon umask: files it creates are not world-readable (sockets come out rwxr-x---).
        _ = Umask(Convert.ToInt32("027", 8));
    }

    /// <summary>In the child, once ready: point stdio at /dev/null (so no caller's pipe stays open) and wake the parent.</summary>
    public static void SignalReady()
    {
        if (_ready is null)
            return;
        var devNull = Open("/dev/null", 2);
        if (devNull >= 0)
        {
            for (var fd = 0; fd <= 2; fd++)
                _ = Dup2(devNull, fd);
            _ = Close(devNull);
        }
        _ready.WriteByte(1);
        _ready.Dispose();
        _ready = null;
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
