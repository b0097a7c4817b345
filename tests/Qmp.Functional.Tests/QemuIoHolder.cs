using System.Diagnostics;
using System.Text;

namespace Qmp.Functional.Tests;

/// <summary>
/// Another process using an image: an interactive <c>qemu-io</c> that keeps it open read-write (its write lock
/// taken) until disposed. The image is open once the first prompt appears.
/// </summary>
internal sealed class QemuIoHolder : IAsyncDisposable
{
    private readonly Process _process;

    private QemuIoHolder(Process process) => _process = process;

    /// <summary>Opens <paramref name="path"/> (raw, read-write, no force-share) and waits until qemu-io holds it.</summary>
    public static async Task<QemuIoHolder> OpenAsync(string path)
    {
        var info = new ProcessStartInfo(Qmpd.FindTool("qemu-io", "qemu-utils"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-f", "raw", path })
            info.ArgumentList.Add(argument);
        var holder = new QemuIoHolder(Process.Start(info) ?? throw new InvalidOperationException("could not start qemu-io"));
        var stderr = holder._process.StandardError.ReadToEndAsync();
        var seen = new StringBuilder();
        var buffer = new char[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!seen.ToString().Contains("qemu-io> ", StringComparison.Ordinal))
        {
            var n = await holder._process.StandardOutput.ReadAsync(buffer, timeout.Token);
            if (n == 0)
            {
                await holder._process.WaitForExitAsync(timeout.Token);
                var code = holder._process.ExitCode;
                await holder.DisposeAsync();
                Assert.Fail($"qemu-io could not open {path} (exit {code}): {await stderr}{seen}");
            }
            seen.Append(buffer, 0, n);
        }
        return holder;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await _process.StandardInput.WriteLineAsync("quit");
                _process.StandardInput.Close();
            }
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
