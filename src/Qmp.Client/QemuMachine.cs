using System.Net.Sockets;

namespace Qmp.Client;

/// <summary>
/// Launches qmpd (or any QEMU binary) and drives it, after QEMU's Python <c>QEMUMachine</c>: the
/// harness listens on a private unix socket and the emulator connects its monitor to it;
/// <see cref="ShutdownAsync"/> asks politely, falls back to killing and then throws
/// <see cref="AbnormalShutdownException"/>; cleanup always runs.
/// </summary>
public sealed class QemuMachine : IAsyncDisposable
{
    private readonly string _binary;
    private readonly IReadOnlyList<string> _prefixArgs;
    private readonly IReadOnlyList<string> _args;
    private readonly string _tempDir;
    private CapturedProcess? _process;
    private QmpClient? _qmp;
    private bool _quitIssued;

    /// <summary>Describes a machine; <paramref name="prefixArgs"/> go before the monitor options (e.g. a dll for <c>dotnet</c>).</summary>
    public QemuMachine(string binary, IEnumerable<string> args, IEnumerable<string>? prefixArgs = null)
    {
        _binary = binary;
        _args = [.. args];
        _prefixArgs = [.. prefixArgs ?? []];
        _tempDir = Directory.CreateTempSubdirectory("qemu-machine-").FullName;
    }

    /// <summary>The QMP connection, once launched.</summary>
    public QmpClient Qmp => _qmp ?? throw new InvalidOperationException("The machine is not launched.");

    /// <summary>Whether the process is running.</summary>
    public bool IsRunning => _process is { Process.HasExited: false };

    /// <summary>The exit code, once the process ended.</summary>
    public int? ExitCode => _process is { Process.HasExited: true } p ? p.Process.ExitCode : null;

    /// <summary>The process id.</summary>
    public int? Pid => _process?.Process.Id;

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output => _process?.Output ?? "";

    /// <summary>A scratch directory removed at cleanup.</summary>
    public string TempDir => _tempDir;

    /// <summary>Starts the process, accepts its monitor connection and negotiates capabilities.</summary>
    public async Task LaunchAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var socketPath = Path.Combine(_tempDir, "qmp.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(1);

        string[] monitor = ["-display", "none", "-chardev", $"socket,id=mon,path={socketPath}", "-mon", "chardev=mon,mode=control"];
        try
        {
            _process = CapturedProcess.Start(_binary, [.. _prefixArgs, .. monitor, .. _args]);
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception)
        {
            throw new VmLaunchException("could not start: " + e.Message, null, CommandLine, "", e);
        }

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            var accept = listener.AcceptAsync(timer.Token).AsTask();
            var exited = _process.Process.WaitForExitAsync(timer.Token);
            if (await Task.WhenAny(accept, exited).ConfigureAwait(false) != accept)
            {
                await exited.ConfigureAwait(false);
                throw new VmLaunchException("the process exited before connecting its monitor", ExitCode, CommandLine, Output);
            }
            var socket = await accept.ConfigureAwait(false);
            _qmp = await QmpClient.ConnectAsync(new NetworkStream(socket, ownsSocket: true), timer.Token).ConfigureAwait(false);
            await _qmp.NegotiateAsync(cancellationToken: timer.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
        {
            await KillAsync().ConfigureAwait(false);
            throw new VmLaunchException("launch failed: " + e.Message, ExitCode, CommandLine, Output, e);
        }
    }

    /// <summary>
    /// Graceful shutdown: <c>quit</c> (unless already issued), wait up to <paramref name="timeout"/>.
    /// On any failure the process is killed and <see cref="AbnormalShutdownException"/> is thrown
    /// with the cause. Cleanup runs in every case; a second call does nothing.
    /// </summary>
    public async Task ShutdownAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (_process is null)
            return;
        // The quit and the wait for the exit share one deadline: a hung emulator that never
        // answers quit must not hang the harness.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            if (!_quitIssued && _qmp is not null)
            {
                _quitIssued = true;
                await _qmp.ExecuteAsync("quit", cancellationToken: deadline.Token).ConfigureAwait(false);
            }
            else if (_qmp is null)
            {
                // No monitor to ask: SIGTERM is the polite request.
                _process.Signal(15);
            }
            await _process.Process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not AbnormalShutdownException)
        {
            await KillAsync().ConfigureAwait(false);
            var cause = e is OperationCanceledException && !cancellationToken.IsCancellationRequested
                ? new TimeoutException($"The process did not exit within {(timeout ?? TimeSpan.FromSeconds(30)).TotalSeconds:0.#} s.", e)
                : e;
            throw new AbnormalShutdownException("Could not perform graceful shutdown", cause);
        }
        finally
        {
            await CleanupAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Expects the process to exit by itself (no quit is sent), then cleans up.</summary>
    public async Task WaitAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        _quitIssued = true;
        await ShutdownAsync(timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>SIGKILL, wait, clean up.</summary>
    public async Task KillAsync()
    {
        if (_process is not null)
            await _process.KillAsync().ConfigureAwait(false);
        await CleanupAsync().ConfigureAwait(false);
    }

    /// <summary>Sends a signal (e.g. 15 for SIGTERM, 19 for SIGSTOP) to the process.</summary>
    public void Signal(int signal) => _process?.Signal(signal);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await KillAsync().ConfigureAwait(false);
        if (_process is not null)
            await _process.DisposeAsync().ConfigureAwait(false);
    }

    private string CommandLine => string.Join(' ', new[] { _binary }.Concat(_prefixArgs).Concat(_args));

    private async Task CleanupAsync()
    {
        if (_qmp is not null)
        {
            await _qmp.DisposeAsync().ConfigureAwait(false);
            _qmp = null;
        }
        try
        {
            if (Directory.Exists(_tempDir))
                Directory.Delete(_tempDir, recursive: true);
        }
        catch (IOException)
        {
            // Something still holds a file; the directory is only scratch space.
        }
    }
}
