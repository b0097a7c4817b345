using Qmp.Client;

namespace Qmp.Functional.Tests;

/// <summary>
/// What the tests that run the disk guest under qmpd and check its images with qemu-img share: the guest's
/// command line, waiting for its passes, and running the qemu-utils tools.
/// </summary>
internal static class DiskGuestTools
{
    /// <summary>The disk guest on a virtio-blk drive d0, its serial port in <paramref name="serialPath"/>.</summary>
    internal static string[] GuestArgs(GuestBuild guests, string serialPath, string append) =>
        ["-nodefaults", "-display", "none", "-no-reboot", "-serial", $"file:{serialPath}", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-device", "virtio-blk-pci,drive=d0,disable-legacy=on", "-kernel", guests.Elf("disk"), "-append", append];

    /// <summary>How many passes the guest reported on its serial port so far.</summary>
    internal static int Passes(string serialPath) =>
        File.Exists(serialPath) ? File.ReadAllText(serialPath).Split('\n').Count(l => l.StartsWith("pass ", StringComparison.Ordinal)) : 0;

    /// <summary>Waits until the guest reported <paramref name="passes"/> passes; fails after <paramref name="timeout"/> or if qmpd exits.</summary>
    internal static async Task WaitForPassAsync(string serialPath, int passes, CapturedProcess process, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Passes(serialPath) < passes)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the guest did not reach pass {passes}:\n{process.Output}");
            Assert.False(process.Process.HasExited, $"qmpd exited early:\n{process.Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>Runs qemu-img with <paramref name="args"/> and asserts that it succeeded.</summary>
    internal static async Task Img(params string[] args)
    {
        var (exit, output) = await Tool("qemu-img", args);
        Assert.True(exit == 0, $"qemu-img {string.Join(' ', args)}: {output}");
    }

    /// <summary>Runs the qemu-utils tool <paramref name="name"/> and returns its exit code and output.</summary>
    internal static async Task<(int Exit, string Output)> Tool(string name, params string[] args)
    {
        await using var process = CapturedProcess.Start(Qmpd.FindTool(name, "qemu-utils"), args);
        return (await process.WaitForExitAsync(), process.Output);
    }
}
