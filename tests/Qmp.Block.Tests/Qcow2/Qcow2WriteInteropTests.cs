using System.Globalization;
using Qmp.Block.Qcow2;

namespace Qmp.Block.Tests.Qcow2;

/// <summary>Images we create and write pass qemu-img check and compare equal to what we wrote.</summary>
public sealed class Qcow2WriteInteropTests
{
    [Theory]
    [InlineData(65536, "1.1", false, 16, 300)]
    [InlineData(65536, "1.1", true, 16, 300)]
    [InlineData(4096, "1.1", false, 16, 300)]
    [InlineData(512, "1.1", true, 16, 200)]
    [InlineData(2 << 20, "1.1", false, 16, 80)]
    [InlineData(65536, "0.10", false, 16, 200)]
    [InlineData(65536, "0.10", true, 16, 200)]
    [InlineData(4096, "1.1", false, 1, 150)]
    [InlineData(4096, "1.1", false, 2, 150)]
    [InlineData(4096, "1.1", true, 4, 150)]
    [InlineData(4096, "1.1", false, 8, 150)]
    [InlineData(4096, "1.1", false, 32, 150)]
    [InlineData(4096, "1.1", false, 64, 150)]
    public async Task Random_workload_leaves_image_qemu_img_checks_clean_and_compares_equal(int clusterSize, string compat, bool backing, int refcountBits, int operations)
    {
        using var dir = new TempDirectory();
        var size = clusterSize >= (2 << 20) ? 32L << 20 : 8L << 20;
        var model = new byte[size];
        string? backingFile = null;
        if (backing)
        {
            new Random(7).NextBytes(model.AsSpan(0, (int)(size * 3 / 4)));
            await System.IO.File.WriteAllBytesAsync(dir.File("base.raw"), model.AsSpan(0, (int)(size * 3 / 4)).ToArray());
            backingFile = "base.raw";
        }
        var path = dir.File("img.qcow2");
        await using (var image = await Qcow2Image.CreateAsync(path, new Qcow2CreateOptions
        {
            Size = size,
            ClusterSize = clusterSize,
            Compat = compat,
            RefcountBits = refcountBits,
            BackingFile = backingFile,
            BackingFormat = backing ? "raw" : null,
        }))
        {
            var workload = new Workload(image.Node, model, clusterSize, compat == "1.1", backing, clusterSize + refcountBits);
            await workload.RunAsync(operations);
            var ours = await image.Node.CheckAsync(Qcow2RepairMode.None);
            Assert.True(ours.ExitCode == 0, string.Join('\n', ours.Messages));
            await image.Node.FlushAsync();
        }
        await AssertCleanAndEqualAsync(dir, path, model);
    }

    [Fact]
    public async Task Sequential_writes_allocate_contiguous_host_clusters()
    {
        using var dir = new TempDirectory();
        var path = dir.File("seq.qcow2");
        var model = new byte[16 << 20];
        await using (var image = await Qcow2Image.CreateAsync(path, new Qcow2CreateOptions { Size = model.Length }))
        {
            var random = new Random(3);
            for (var offset = 0; offset < model.Length; offset += 4096)
            {
                random.NextBytes(model.AsSpan(offset, 4096));
                await image.Node.WriteAsync(offset, model.AsMemory(offset, 4096));
            }
        }
        await AssertCleanAndEqualAsync(dir, path, model);
        var map = QemuTools.Map(path);
        var entry = Assert.Single(map);
        Assert.True(entry.Data);
        Assert.Equal(0, QemuTools.CheckJson(path, out _).TryGetProperty("fragmented-clusters", out var f) ? f.GetInt64() : 0);
    }

    [Fact]
    public async Task Zero_writes_and_discards_use_zero_flags_qemu_maps_as_zero()
    {
        using var dir = new TempDirectory();
        QemuTools.Img("create", "-q", "-f", "raw", dir.File("base.raw"), "4M");
        QemuTools.Io(dir.File("base.raw"), "write -P 0x5a 0 4M");
        var path = dir.File("top.qcow2");
        await using (var image = await Qcow2Image.CreateAsync(path, new Qcow2CreateOptions { Size = 4 << 20, BackingFile = "base.raw", BackingFormat = "raw" }))
        {
            var node = image.Node;
            await node.WriteAsync(0, new byte[128 * 1024].Select(_ => (byte)1).ToArray());
            await node.WriteZeroesAsync(0, 65536, BlockWriteFlags.None);
            await node.WriteZeroesAsync(65536, 65536, BlockWriteFlags.MayUnmap);
            await node.WriteZeroesAsync(1 << 20, 1 << 20, BlockWriteFlags.MayUnmap);
            await node.DiscardAsync(3 << 20, 65536);
            await node.WriteZeroesAsync((3 << 20) + 65536 + 100, 1000, BlockWriteFlags.None);
        }
        var map = QemuTools.Map(path);
        await using (var image = await Qcow2Image.OpenAsync(path, readOnly: true))
            ImageMap.AssertEquivalent(map, await ImageMap.OfAsync(image.Node));
        Assert.Contains(map, e => e.Start == 0 && e.Zero && !e.Data && e.Offset is not null);
        Assert.Contains(map, e => e.Start == 65536 && e.Zero && !e.Data && e.Offset is null && e.Depth == 0);
        Assert.Contains(map, e => e.Start == 1 << 20 && e.Length == 1 << 20 && e.Zero && e.Depth == 0);
        Assert.Contains(map, e => e.Start == 3 << 20 && e.Length == 65536 && e.Zero && e.Depth == 0);
        QemuTools.Io(path, "read -P 0 0 128k", "read -P 0 1M 1M", "read -P 0 3M 64k", "read -P 0x5a 3136k 100", "read -P 0 3211364 1000", "read -P 0x5a 2M 1M");
        Assert.Equal(0, QemuTools.Run("qemu-img", "check", path).ExitCode);
    }

    [Fact]
    public async Task Growing_the_image_moves_the_l1_table_and_keeps_data()
    {
        using var dir = new TempDirectory();
        var path = dir.File("grow.qcow2");
        await using (var image = await Qcow2Image.CreateAsync(path, new Qcow2CreateOptions { Size = 1 << 20, ClusterSize = 4096 }))
        {
            await image.Node.WriteAsync(4096, new byte[] { 1, 2, 3 });
            await image.Node.TruncateAsync(64L << 20);
            await image.Node.WriteAsync((64L << 20) - 3, new byte[] { 4, 5, 6 });
            Assert.Equal(64L << 20, image.Node.Length);
        }
        Assert.Equal(0, QemuTools.Run("qemu-img", "check", path).ExitCode);
        QemuTools.Io(path, "read -P 1 4096 1", "read -P 6 67108863 1");
        var info = System.Text.Json.JsonDocument.Parse(QemuTools.Img("info", "--output=json", path)).RootElement;
        Assert.Equal(64L << 20, info.GetProperty("virtual-size").GetInt64());
    }

    [Fact]
    public async Task Shrinking_drops_clusters_past_the_end_and_growing_again_reads_zeroes()
    {
        using var dir = new TempDirectory();
        var path = dir.File("shrink.qcow2");
        var model = new byte[8 << 20];
        await using (var image = await Qcow2Image.CreateAsync(path, new Qcow2CreateOptions { Size = model.Length, ClusterSize = 4096 }))
        {
            new Random(9).NextBytes(model);
            await image.Node.WriteAsync(0, model);
            await image.Node.TruncateAsync((3 << 20) + 1024);
            Assert.Equal(0, (await image.Node.CheckAsync(Qcow2RepairMode.None)).ExitCode);
            await image.Node.TruncateAsync(model.Length);
            model.AsSpan((3 << 20) + 1024).Clear();
            var e = await Assert.ThrowsAsync<BlockException>(async () => await image.Node.TruncateAsync(1000));
            Assert.Equal("The new size must be a multiple of 512", e.Message);
        }
        await AssertCleanAndEqualAsync(dir, path, model);
    }

    [Fact]
    public async Task Growing_an_overlay_hides_the_longer_backing_file()
    {
        using var dir = new TempDirectory();
        QemuTools.Img("create", "-q", "-f", "raw", dir.File("base.raw"), "4M");
        QemuTools.Io(dir.File("base.raw"), "write -P 0x66 0 4M");
        var path = dir.File("top.qcow2");
        await using (var image = await Qcow2Image.CreateAsync(path, new Qcow2CreateOptions { Size = 1 << 20, BackingFile = "base.raw", BackingFormat = "raw" }))
            await image.Node.TruncateAsync(8 << 20);
        QemuTools.Io(path, "read -P 0x66 0 1M", "read -P 0 1M 7M");
        Assert.Equal(0, QemuTools.Run("qemu-img", "check", path).ExitCode);
    }

    [Fact]
    public async Task Changing_the_backing_file_rewrites_the_header_like_qemu_img_rebase_unsafe()
    {
        using var dir = new TempDirectory();
        QemuTools.Img("create", "-q", "-f", "qcow2", dir.File("ours.qcow2"), "1M");
        QemuTools.Img("create", "-q", "-f", "qcow2", dir.File("theirs.qcow2"), "1M");
        QemuTools.Img("rebase", "-u", "-b", "some/base.qcow2", "-F", "qcow2", dir.File("theirs.qcow2"));
        await using (var image = await Qcow2Image.OpenAsync(dir.File("ours.qcow2")))
        {
            await image.Node.ChangeBackingFileAsync("some/base.qcow2", "qcow2");
            Assert.Equal("some/base.qcow2", image.Node.BackingFileName);
            Assert.Equal("qcow2", image.Node.BackingFormat);
        }
        Assert.Equal(await System.IO.File.ReadAllBytesAsync(dir.File("theirs.qcow2")), await System.IO.File.ReadAllBytesAsync(dir.File("ours.qcow2")));
        QemuTools.Img("rebase", "-u", "-b", "", dir.File("theirs.qcow2"));
        await using (var image = await Qcow2Image.OpenAsync(dir.File("ours.qcow2"), withBacking: false))
            await image.Node.ChangeBackingFileAsync(null, null);
        Assert.Equal(await System.IO.File.ReadAllBytesAsync(dir.File("theirs.qcow2")), await System.IO.File.ReadAllBytesAsync(dir.File("ours.qcow2")));
    }

    [Fact]
    public async Task Partial_last_cluster_is_written_zeroed_and_discarded_whole()
    {
        using var dir = new TempDirectory();
        var path = dir.File("tail.qcow2");
        var size = (1 << 20) + 1536;
        var model = new byte[size];
        await using (var image = await Qcow2Image.CreateAsync(path, new Qcow2CreateOptions { Size = size }))
        {
            var node = image.Node;
            var data = Enumerable.Range(0, 70_000).Select(i => (byte)(i % 251 + 1)).ToArray();
            await node.WriteAsync(size - data.Length, data);
            data.CopyTo(model, size - data.Length);
            // Reaches the end of the disk: the last, partial cluster counts as whole.
            await node.WriteZeroesAsync(1 << 20, 1536, BlockWriteFlags.MayUnmap);
            model.AsSpan(1 << 20).Clear();
            var status = await node.GetStatusAsync(1 << 20, 1536);
            Assert.Equal(BlockStatusFlags.Zero | BlockStatusFlags.Allocated, status.Flags);
            await node.DiscardAsync(size - 70_000, 70_000);
            model.AsSpan((1 << 20) - 65536, 65536).Clear();
        }
        await AssertCleanAndEqualAsync(dir, path, model);
    }

    [Fact]
    public async Task Zeroing_an_empty_image_without_backing_allocates_nothing()
    {
        using var dir = new TempDirectory();
        var path = dir.File("empty.qcow2");
        await using (var image = await Qcow2Image.CreateAsync(path, new Qcow2CreateOptions { Size = 1L << 30 }))
        {
            await image.Node.WriteZeroesAsync(0, 1L << 30, BlockWriteFlags.None);
            await image.Node.WriteZeroesAsync(12345, 100_000, BlockWriteFlags.MayUnmap);
            await image.Node.DiscardAsync(0, 1L << 30);
            var status = await image.Node.GetStatusAsync(0, 1L << 30);
            Assert.Equal((1L << 30, BlockStatusFlags.None), (status.Length, status.Flags));
        }
        Assert.Equal(196624, new FileInfo(path).Length);
        Assert.Equal(0, QemuTools.Run("qemu-img", "check", path).ExitCode);
    }

    internal static async Task AssertCleanAndEqualAsync(TempDirectory dir, string path, byte[] model)
    {
        var check = QemuTools.CheckJson(path, out var exit);
        Assert.True(exit == 0, $"qemu-img check exited {exit}: {check}");
        var reference = dir.File("reference.raw");
        await System.IO.File.WriteAllBytesAsync(reference, model);
        var compare = QemuTools.Run("qemu-img", "compare", "-f", "raw", "-F", "qcow2", reference, path);
        Assert.True(compare.ExitCode == 0, $"qemu-img compare: {compare.Stdout}{compare.Stderr}");
        await using var image = await Qcow2Image.OpenAsync(path, readOnly: true);
        var ours = await image.Node.CheckAsync(Qcow2RepairMode.None);
        Assert.Equal(check.GetProperty("allocated-clusters").GetInt64(), ours.AllocatedClusters);
        Assert.Equal(check.GetProperty("total-clusters").GetInt64(), ours.TotalClusters);
        Assert.Equal(check.GetProperty("image-end-offset").GetInt64(), ours.ImageEndOffset);
        Assert.Equal(check.TryGetProperty("fragmented-clusters", out var f) ? f.GetInt64() : 0, ours.FragmentedClusters);
        _ = CultureInfo.InvariantCulture;
    }
}
