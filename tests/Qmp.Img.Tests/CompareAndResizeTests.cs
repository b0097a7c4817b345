namespace Qmp.Img.Tests;

/// <summary>compare's verdicts, offsets and exit codes, and resize, against qemu-img on the same files.</summary>
public sealed class CompareAndResizeTests : IAsyncLifetime
{
    private Scratch _scratch = null!;

    public async Task InitializeAsync()
    {
        _scratch = await SampleImages.SharedAsync();
        var dir = _scratch.Root;
        if (File.Exists(_scratch.PathOf("longer-dirty.raw")))
            return;
        await Tools.QemuImgAsync(dir, "convert", "-O", "raw", "overlay.qcow2", "flat.raw");
        File.Copy(_scratch.PathOf("flat.raw"), _scratch.PathOf("poked.raw"));
        using (var stream = new FileStream(_scratch.PathOf("poked.raw"), FileMode.Open, FileAccess.Write))
        {
            stream.Position = 3_200_123;
            stream.WriteByte(0x42);
        }
        File.Copy(_scratch.PathOf("flat.raw"), _scratch.PathOf("longer.raw"));
        _scratch.SetLength("longer.raw", 6 << 20);
        File.Copy(_scratch.PathOf("longer.raw"), _scratch.PathOf("longer-dirty.raw"));
        _scratch.WriteRandom("longer-dirty.raw", 5_500_000, 10, 9);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData(0, "overlay.qcow2", "flat.raw")]
    [InlineData(1, "overlay.qcow2", "poked.raw")]
    [InlineData(1, "poked.raw", "overlay.qcow2")]
    [InlineData(0, "overlay.qcow2", "longer.raw")]
    [InlineData(1, "overlay.qcow2", "longer-dirty.raw")]
    [InlineData(1, "-s", "overlay.qcow2", "longer.raw")]
    [InlineData(1, "-s", "overlay.qcow2", "flat.raw")]
    [InlineData(0, "-f", "qcow2", "-F", "raw", "overlay.qcow2", "flat.raw")]
    [InlineData(1, "base.qcow2", "overlay.qcow2")]
    [InlineData(0, "-p", "overlay.qcow2", "flat.raw")]
    [InlineData(1, "-q", "overlay.qcow2", "poked.raw")]
    [InlineData(2, "overlay.qcow2", "nonexist")]
    [InlineData(1, "overlay.qcow2")]
    public async Task Compare_matches(int exitCode, params string[] args)
    {
        var run = await Tools.SameAsync(_scratch.Root, ["compare", .. args]);
        Assert.Equal(exitCode, run.ExitCode);
    }

    [Theory]
    [InlineData("base.qcow2", "+1M")]
    [InlineData("base.qcow2", "512k")]
    [InlineData("base.qcow2", "--shrink", "512k")]
    [InlineData("flat.raw", "-f", "raw", "8M")]
    [InlineData("flat.raw", "-f", "raw", "--", "-1M")]
    [InlineData("flat.raw", "-f", "raw", "--shrink", "--", "-1M")]
    [InlineData("base.qcow2", "1000")]
    [InlineData("base.qcow2", "x")]
    [InlineData("base.qcow2")]
    public async Task Resize_matches(string image, params string[] args)
    {
        var dir = _scratch.Root;
        File.Copy(_scratch.PathOf(image), _scratch.PathOf("theirs"), overwrite: true);
        File.Copy(_scratch.PathOf(image), _scratch.PathOf("ours"), overwrite: true);
        string[] Arguments(string name) => args.Length == 0 ? ["resize", name] : ["resize", .. args[..^1], name, args[^1]];
        var theirs = await Tools.QemuImgAsync(dir, Arguments("theirs"));
        var ours = await Tools.QimgAsync(dir, Arguments("ours"));
        Assert.Equal(theirs.Normalized.Replace("theirs", "ours", StringComparison.Ordinal), ours.Normalized);
        Assert.Equal(theirs.ExitCode, ours.ExitCode);
        Assert.Equal((await Tools.QemuImgAsync(dir, "info", "--output=json", "theirs")).Stdout.Replace("theirs", "ours", StringComparison.Ordinal).Split('\n').Where(l => !l.Contains("actual-size", StringComparison.Ordinal)),
            (await Tools.QemuImgAsync(dir, "info", "--output=json", "ours")).Stdout.Split('\n').Where(l => !l.Contains("actual-size", StringComparison.Ordinal)));
        if (image.EndsWith(".qcow2", StringComparison.Ordinal))
            Assert.Equal(0, (await Tools.QemuImgAsync(dir, "check", "ours")).ExitCode);
    }
}
