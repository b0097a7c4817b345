using System.Diagnostics;
using System.Text;

namespace Qmp.TestSupport;

/// <summary>
/// Another process using an image: an interactive <c>qemu-io</c> that keeps it open (its locks taken) until
/// disposed. qemu-io opens the image before its first prompt, so the prompt means the locks are held.
/// Shared by the test projects as a linked source file.
/// </summary>
internal sealed class QemuIoHolder : IAsyncDisposable
{
    private readonly Process _process;

    private QemuIoHolder(Process process) => _process = process;

    /// <summary>Starts <paramref name="qemuIo"/> with <paramref name="arguments"/> (options and the image) and waits until it has the image open.</summary>
    public static async Task<QemuIoHolder> OpenAsync(string qemuIo, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(qemuIo)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        var holder = new QemuIoHolder(Process.Start(info) ?? throw new InvalidOperationException("could not start qemu-io"));
        var stderr = holder._process.StandardError.ReadToEndAsync();
        var seen = new StringBuilder();
        var buffer = new char[256];
        // By time: on a loaded machine qemu-io takes a while to start.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            while (!seen.ToString().Contains("qemu-io> ", StringComparison.Ordinal))
            {
                var n = await holder._process.StandardOutput.ReadAsync(buffer, timeout.Token);
                if (n == 0)
                {
                    // Its stderr is complete only once the exit has been waited for.
                    await holder._process.WaitForExitAsync(timeout.Token);
                    throw new InvalidOperationException($"qemu-io could not open {string.Join(' ', info.ArgumentList)} (exit {holder._process.ExitCode}): {await stderr}{seen}");
                }
                seen.Append(buffer, 0, n);
            }
        }
        catch
        {
            // A qemu-io that never prompted must not keep the image's locks for the tests after this one.
            await holder.DisposeAsync();
            throw;
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
