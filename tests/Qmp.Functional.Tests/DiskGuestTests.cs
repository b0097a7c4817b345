using Qmp.Client;

namespace Qmp.Functional.Tests;

/// <summary>
/// The disk guest (tools/guests/disk) on a virtio-blk-pci disk: what it prints on qmpd must be what it
/// prints on QEMU, images written by one must read back on the other, and I/O errors follow werror.
/// </summary>
public sealed class DiskGuestTests(GuestBuild guests) : IClassFixture<GuestBuild>
{
    [Fact]
    public async Task Disk_guest_verifies_a_raw_drive_as_on_qemu()
    {
        var dir = Qmpd.TempDir();
        var outputs = new List<string>();
        foreach (var binary in new[] { Qmpd.Binary, Qmpd.FindTool("qemu-system-i386", "qemu-system-x86") })
        {
            var image = Path.Combine(dir, "disk.raw");
            await QemuImg("create", "-q", "-f", "raw", image, "16M");
            var (exit, serial) = await RunGuestAsync(binary, dir, "mode=verify", "-drive", $"file={image},format=raw,if=none,id=d0");
            Assert.True(exit == 1, $"{binary} exited with {exit}:\n{serial}");
            outputs.Add(serial);
            File.Delete(image);
        }
        Assert.Equal(GuestBuild.Expected("disk"), outputs[0]);
        Assert.Equal(outputs[1], outputs[0]);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Qcow2_image_written_by_qmpd_reads_back_on_qemu_and_the_other_way()
    {
        var dir = Qmpd.TempDir();
        var qemu = Qmpd.FindTool("qemu-system-i386", "qemu-system-x86");
        foreach (var (writer, reader) in new[] { (Qmpd.Binary, qemu), (qemu, Qmpd.Binary) })
        {
            var image = Path.Combine(dir, "disk.qcow2");
            await QemuImg("create", "-q", "-f", "qcow2", image, "8M");
            const string range = "start=100 sectors=3000 seed=7";
            var blockdev = $"{{\"driver\":\"qcow2\",\"node-name\":\"d0\",\"file\":{{\"driver\":\"file\",\"filename\":\"{image}\"}}}}";
            var (writeExit, written) = await RunGuestAsync(writer, dir, $"mode=write {range}", "-blockdev", blockdev);
            Assert.True(writeExit == 1, $"{writer} (write) exited with {writeExit}:\n{written}");
            Assert.Equal(0, (await QemuImg("check", "-q", image)).Exit);
            var (readExit, read) = await RunGuestAsync(reader, dir, $"mode=read {range}", "-blockdev", blockdev);
            Assert.True(readExit == 1, $"{reader} (read) exited with {readExit}:\n{read}");
            Assert.Equal(Checksum(written), Checksum(read));
            File.Delete(image);
        }
        Directory.Delete(dir, recursive: true);
    }

    // A write the host refuses (past the process's file-size limit: EFBIG) under werror=stop: BLOCK_IO_ERROR,
    // the guest stops in io-error, and once the limit is lifted, cont retries the request and the guest finishes.
    [Fact]
    public async Task Failed_write_under_werror_stop_pauses_the_guest_and_cont_retries_it()
    {
        var dir = Qmpd.TempDir();
        var image = Path.Combine(dir, "disk.raw");
        await QemuImg("create", "-q", "-f", "raw", image, "16M");
        var socketPath = Path.Combine(dir, "qmp.sock");
        var serialPath = Path.Combine(dir, "serial.txt");
        // A soft limit (1 MiB) makes writes at offsets past it fail; SIGXFSZ is ignored so the write only fails.
        // The runtime's double-mapped code heap is a file too, so W^X is off to keep it clear of the limit.
        string[] qmpd = [Qmpd.Binary, .. GuestArgs(serialPath, "mode=write start=0 sectors=4096"), "-S", "-qmp", $"unix:{socketPath},server=on,wait=off",
            "-drive", $"file={image},format=raw,if=none,id=d0,werror=stop"];
        await using var process = CapturedProcess.Start("bash", ["-c", Limited, "qmpd", .. qmpd]);
        await using var client = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync(socketPath), ownsSocket: true));
        await client.NegotiateAsync();
        // Started paused (-S) so no event can come before the client listens.
        var errorEvent = client.WaitEventAsync("BLOCK_IO_ERROR");
        await client.ExecuteAsync("cont");
        var error = await errorEvent.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("d0", error.Data!["device"]!.GetValue<string>());
        Assert.Equal("write", error.Data["operation"]!.GetValue<string>());
        Assert.Equal("stop", error.Data["action"]!.GetValue<string>());
        Assert.False(error.Data["nospace"]!.GetValue<bool>());
        await WaitForStatusAsync(client, "io-error");
        var block = (await client.ExecuteAsync("query-block"))!.AsArray().Single()!;
        Assert.Equal("failed", block["io-status"]!.GetValue<string>());
        Assert.False(File.ReadAllText(serialPath).Contains("PASS", StringComparison.Ordinal));

        using (var prlimit = System.Diagnostics.Process.Start("prlimit", ["--pid", process.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--fsize=unlimited:unlimited"])!)
        {
            await prlimit.WaitForExitAsync();
            Assert.Equal(0, prlimit.ExitCode);
        }
        await client.ExecuteAsync("cont");
        Assert.Equal(1, await process.WaitForExitAsync());
        Assert.EndsWith("PASS\n", File.ReadAllText(serialPath), StringComparison.Ordinal);
        Directory.Delete(dir, recursive: true);
    }

    // werror=report: the guest sees the failure (and fails), the machine keeps running.
    [Fact]
    public async Task Failed_write_under_werror_report_reaches_the_guest()
    {
        var dir = Qmpd.TempDir();
        var image = Path.Combine(dir, "disk.raw");
        await QemuImg("create", "-q", "-f", "raw", image, "16M");
        var serialPath = Path.Combine(dir, "serial.txt");
        string[] qmpd = [Qmpd.Binary, .. GuestArgs(serialPath, "mode=write start=0 sectors=4096"), "-drive", $"file={image},format=raw,if=none,id=d0,werror=report"];
        await using var process = CapturedProcess.Start("bash", ["-c", Limited, "qmpd", .. qmpd]);
        Assert.Equal(3, await process.WaitForExitAsync());
        var serial = File.ReadAllText(serialPath);
        Assert.Contains("failed status 1", serial, StringComparison.Ordinal);
        Assert.EndsWith("FAIL\n", serial, StringComparison.Ordinal);
        Directory.Delete(dir, recursive: true);
    }

    private const string Limited = "trap '' XFSZ; ulimit -S -f 1024; export DOTNET_EnableWriteXorExecute=0; exec \"$@\"";

    private string[] GuestArgs(string serialPath, string append) =>
        ["-nodefaults", "-display", "none", "-no-reboot", "-serial", $"file:{serialPath}", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-device", "virtio-blk-pci,drive=d0,disable-legacy=on", "-kernel", guests.Elf("disk"), "-append", append];

    private async Task<(int Exit, string Serial)> RunGuestAsync(string binary, string dir, string append, params string[] drive)
    {
        var serialPath = Path.Combine(dir, "serial.txt");
        File.Delete(serialPath);
        await using var process = CapturedProcess.Start(binary, [.. GuestArgs(serialPath, append), .. drive]);
        var exit = await process.WaitForExitAsync();
        return (exit, File.Exists(serialPath) ? File.ReadAllText(serialPath) : process.Output);
    }

    private static string Checksum(string serial) => serial.Split('\n').Single(l => l.StartsWith("checksum ", StringComparison.Ordinal));

    private static async Task WaitForStatusAsync(QmpClient client, string status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await client.ExecuteAsync("query-status"))!["status"]!.GetValue<string>() != status)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the machine never reached {status}");
            await Task.Delay(50);
        }
    }

    private static async Task<(int Exit, string Output)> QemuImg(params string[] args)
    {
        var tool = Qmpd.FindTool("qemu-img", "qemu-utils");
        await using var process = CapturedProcess.Start(tool, args);
        return (await process.WaitForExitAsync(), process.Output);
    }
}
