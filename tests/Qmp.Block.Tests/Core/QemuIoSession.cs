using System.Diagnostics;
using System.Text;

namespace Qmp.Block.Tests.Core;

/// <summary>
/// An interactive <c>qemu-io</c> that keeps an image open (and its locks held) until disposed: it reads
/// commands from a pipe, and once its first prompt appears the image is open.
/// </summary>
internal sealed class QemuIoSession : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stderr;

    private QemuIoSession(Process process)
    {
        _process = process;
        _stderr = process.StandardError.ReadToEndAsync();
    }

    /// <summary>Starts <c>qemu-io -f raw <paramref name="path"/></c> (read-write, no force-share) and waits until it has the image open.</summary>
    public static async Task<QemuIoSession> OpenAsync(string path)
    {
        var session = new QemuIoSession(QemuTools.Start(QemuTools.QemuIo, ["-f", "raw", path], redirectInput: true));
        var seen = new StringBuilder();
        var buffer = new char[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!seen.ToString().Contains("qemu-io> ", StringComparison.Ordinal))
        {
            var n = await session._process.StandardOutput.ReadAsync(buffer, timeout.Token);
            if (n == 0)
            {
                await session._process.WaitForExitAsync(timeout.Token);
                Assert.Fail($"qemu-io could not open {path} (exit {session._process.ExitCode}): {await session._stderr}{seen}");
            }
            seen.Append(buffer, 0, n);
        }
        return session;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _process.StandardInput.WriteLineAsync("quit");
            _process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
        }
        finally
        {
            _process.Dispose();
        }
    }
}
