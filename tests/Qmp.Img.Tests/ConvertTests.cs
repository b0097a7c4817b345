using System.Text.RegularExpressions;

namespace Qmp.Img.Tests;

/// <summary>convert: round trips that QEMU verifies, the same allocation as qemu-img convert, the same progress output.</summary>
public sealed partial class ConvertTests : IAsyncLifetime
{
    private Scratch _scratch = null!;

    public async Task InitializeAsync() => _scratch = await SampleImages.SharedAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Raw_to_qcow2_to_raw_round_trips()
    {
        var dir = _scratch.Root;
        // A source with data, zero-filled data and holes.
        _scratch.SetLength("conv-src.raw", 24 << 20);
        _scratch.WriteRandom("conv-src.raw", 0, 6 << 20, 4);
        File.WriteAllBytes(_scratch.PathOf("conv-zeros.bin"), new byte[1 << 20]);
        using (var stream = new FileStream(_scratch.PathOf("conv-src.raw"), FileMode.Open, FileAccess.Write))
        {
            stream.Position = 2 << 20;
            stream.Write(new byte[1 << 20]);
        }
        _scratch.WriteRandom("conv-src.raw", 20_000_000, 5000, 5);

        Assert.Equal(0, (await Tools.QimgAsync(dir, "convert", "-O", "qcow2", "conv-src.raw", "conv-ours.qcow2")).ExitCode);
        Assert.Equal(0, (await Tools.QemuImgAsync(dir, "check", "conv-ours.qcow2")).ExitCode);
        Assert.Equal("Images are identical.\n", (await Tools.QemuImgAsync(dir, "compare", "conv-src.raw", "conv-ours.qcow2")).Stdout);
        Assert.Equal(0, (await Tools.QimgAsync(dir, "convert", "-f", "qcow2", "-O", "raw", "conv-ours.qcow2", "conv-back.raw")).ExitCode);
        Assert.Equal(_scratch.Read("conv-src.raw"), _scratch.Read("conv-back.raw"));

        // Sparse like QEMU's: holes and zero-filled ranges stay unallocated.
        await Tools.QemuImgAsync(dir, "convert", "-O", "qcow2", "conv-src.raw", "conv-qemu.qcow2");
        Assert.Equal(MapWithoutOffsets(await Tools.QemuImgAsync(dir, "map", "--output=json", "conv-qemu.qcow2")),
            MapWithoutOffsets(await Tools.QemuImgAsync(dir, "map", "--output=json", "conv-ours.qcow2")));
    }

    [Fact]
    public async Task Qemu_images_convert_through_their_backing_chain()
    {
        var dir = _scratch.Root;
        foreach (var (image, format) in new[] { ("overlay.qcow2", "qcow2"), ("v2.qcow2", "raw"), ("snap.qcow2", "qcow2"), ("odd.raw", "qcow2"), ("prealloc.qcow2", "qcow2") })
        {
            var target = $"out-{image}.{format}";
            Assert.Equal(0, (await Tools.QimgAsync(dir, "convert", "-O", format, image, target)).ExitCode);
            Assert.Equal(0, (await Tools.QemuImgAsync(dir, "compare", image, target)).ExitCode);
            if (format == "qcow2")
                Assert.Equal(0, (await Tools.QemuImgAsync(dir, "check", target)).ExitCode);
            await Tools.QemuImgAsync(dir, "convert", "-O", format, image, $"qemu-{target}");
            Assert.Equal(MapWithoutOffsets(await Tools.QemuImgAsync(dir, "map", "--output=json", $"qemu-{target}")),
                MapWithoutOffsets(await Tools.QemuImgAsync(dir, "map", "--output=json", target)));
        }
    }

    [Fact]
    public async Task Progress_and_errors_match()
    {
        var dir = _scratch.Root;
        var theirs = await Tools.QemuImgAsync(dir, "convert", "-p", "-O", "qcow2", "overlay.qcow2", "sparse.raw", "p1.qcow2");
        var ours = await Tools.QimgAsync(dir, "convert", "-p", "-O", "qcow2", "overlay.qcow2", "sparse.raw", "p2.qcow2");
        Assert.Equal(theirs.Normalized, ours.Normalized);
        Assert.Equal(0, (await Tools.QemuImgAsync(dir, "compare", "p1.qcow2", "p2.qcow2")).ExitCode);
        await Tools.SameAsync(dir, "convert", "-O", "qcow2", "nonexist", "x.qcow2");
        await Tools.SameAsync(dir, "convert", "-O", "qcow2", "-o", "cluster_size=1000", "odd.raw", "x.qcow2");
        await Tools.SameAsync(dir, "convert", "-m", "17", "odd.raw", "x.raw");
        await Tools.SameAsync(dir, "convert", "--target-is-zero", "odd.raw", "x.raw");
        // A copy of its own: other classes read the shared odd.raw meanwhile, and their shared lock would refuse this write.
        File.Copy(Path.Combine(dir, "odd.raw"), Path.Combine(dir, "odd-target.raw"), overwrite: true);
        await Tools.SameAsync(dir, "convert", "-n", "-O", "raw", "sparse.raw", "odd-target.raw");
    }

    private static string MapWithoutOffsets(ToolRun run) => OffsetMember().Replace(run.Stdout, "");

    [GeneratedRegex(@", ""offset"": \d+")]
    private static partial Regex OffsetMember();
}
