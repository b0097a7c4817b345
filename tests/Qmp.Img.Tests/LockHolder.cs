using System.Diagnostics;

namespace Qmp.Img.Tests;

/// <summary>A qemu-io process holding an image open read-write (and so its write lock) until disposed.</summary>
internal sealed class LockHolder : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly string _image;

    public LockHolder(string directory, string image)
    {
        _directory = directory;
        _image = image;
        var start = new ProcessStartInfo(Tools.QemuIo)
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(image);
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start qemu-io");
    }

    /// <summary>Waits until qemu-img sees the lock.</summary>
    public async Task WaitHeldAsync()
    {
        for (var i = 0; i < 100; i++)
        {
            if ((await Tools.QemuImgAsync(_directory, "info", _image)).ExitCode != 0)
                return;
            await Task.Delay(50);
        }
        Assert.Fail("qemu-io never took the image lock");
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
