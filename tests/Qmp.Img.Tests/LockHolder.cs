using System.Diagnostics;

namespace Qmp.Img.Tests;

/// <summary>A qemu-io process holding an image open read-write (and so its write lock) until disposed.</summary>
internal sealed class LockHolder : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly string _image;
    private readonly System.Text.StringBuilder _stderr = new();

    public LockHolder(string directory, string image)
    {
        _directory = directory;
        _image = image;
        var start = new ProcessStartInfo(Tools.QemuIo)
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(image);
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start qemu-io");
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
                _stderr.AppendLine(e.Data);
        };
        _process.BeginErrorReadLine();
    }

    /// <summary>Waits until qemu-img sees the lock.</summary>
    public async Task WaitHeldAsync()
    {
        // By time, not by tries: under a loaded CI machine each qemu-img run takes a while.
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(60))
        {
            if ((await Tools.QemuImgAsync(_directory, "info", _image)).ExitCode != 0)
                return;
            if (_process.HasExited)
                break;
            await Task.Delay(50);
        }
        // An exited qemu-io's stderr is complete only once the exit has been waited for.
        if (_process.HasExited)
            await _process.WaitForExitAsync();
        lock (_stderr)
            Assert.Fail($"qemu-io never took the image lock (exited: {_process.HasExited}; stderr: {_stderr})");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.WriteLine("quit");
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // qemu-io is already gone.
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }
        _process.Dispose();
    }
}
