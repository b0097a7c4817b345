using Qmp.Block.Qcow2;

namespace Qmp.Block.Tests.Qcow2;

/// <summary>Compressed cluster writes: QEMU reads what qmpd compressed, qmpd reads what QEMU compressed, refcounts check clean.</summary>
public sealed class Qcow2CompressedWriteTests
{
    [Theory]
    [InlineData(65536, "1.1", 16, false)]
    [InlineData(65536, "1.1", 16, true)]
    [InlineData(4096, "1.1", 16, false)]
    [InlineData(512, "1.1", 16, false)]
    [InlineData(2 << 20, "1.1", 16, false)]
    [InlineData(65536, "0.10", 16, false)]
    [InlineData(4096, "1.1", 1, false)]
    [InlineData(4096, "1.1", 64, false)]
    public async Task Compressed_clusters_qmpd_writes_read_back_in_qemu_and_check_clean(int clusterSize, string compat, int refcountBits, bool lazyRefcounts)
    {
        using var dir = new TempDirectory();
        var path = dir.File("img.qcow2");
        var clusters = clusterSize >= (2 << 20) ? 6 : 40;
        var model = new byte[(long)clusters * clusterSize];
        var random = new Random(clusterSize + refcountBits);
        // Guest clusters in an order that is not the host order, so compressed data of distant clusters share host clusters.
        var order = Enumerable.Range(0, clusters).OrderBy(_ => random.Next()).ToArray();
        await using (var image = await Qcow2Image.CreateAsync(path, new Qcow2CreateOptions { Size = model.Length, ClusterSize = clusterSize, Compat = compat, RefcountBits = refcountBits, LazyRefcounts = lazyRefcounts }))
        {
            foreach (var c in order)
            {
                var cluster = model.AsMemory(c * clusterSize, clusterSize);
                // Compressible text of varying length, zeroes, and (every fifth) noise that cannot shrink.
                if (c % 5 == 4)
                    random.NextBytes(cluster.Span);
                else if (c % 5 != 3)
                    FillCompressible(cluster.Span, random, random.Next(1, clusterSize));
                await image.Node.WriteAsync(c * (long)clusterSize, cluster, BlockWriteFlags.Compressed);
            }
            var ours = await image.Node.CheckAsync(Qcow2RepairMode.None);
            Assert.True(ours.ExitCode == 0, string.Join('\n', ours.Messages));
            var back = new byte[model.Length];
            await image.Node.ReadAsync(0, back);
            Assert.True(model.AsSpan().SequenceEqual(back), "qmpd reads back what it compressed");
        }
        var check = QemuTools.CheckJson(path, out var exit);
        Assert.True(exit == 0, $"qemu-img check exited {exit}: {check}");
        Assert.True(check.GetProperty("compressed-clusters").GetInt64() >= clusters * 4 / 5, check.ToString());
        var reference = dir.File("reference.raw");
        await System.IO.File.WriteAllBytesAsync(reference, model);
        var compare = QemuTools.Run("qemu-img", "compare", "-f", "raw", "-F", "qcow2", reference, path);
        Assert.True(compare.ExitCode == 0, $"qemu-img compare: {compare.Stdout}{compare.Stderr}");
    }

    [Fact]
    public async Task Compressed_data_shares_host_clusters_and_the_file_stays_small()
    {
        using var dir = new TempDirectory();
        var path = dir.File("img.qcow2");
        var model = new byte[64 << 20];
        for (var offset = 0; offset < model.Length; offset += 65536)
            FillCompressible(model.AsSpan(offset, 65536), new Random(offset), 65536);
        await using (var image = await Qcow2Image.CreateAsync(path, new Qcow2CreateOptions { Size = model.Length }))
            await image.Node.WriteAsync(0, model, BlockWriteFlags.Compressed);
        await Qcow2WriteInteropTests.AssertCleanAndEqualAsync(dir, path, model);
        // 1024 compressed clusters of a few KiB each: far fewer host clusters than guest clusters.
        var check = QemuTools.CheckJson(path, out _);
        Assert.Equal(1024, check.GetProperty("compressed-clusters").GetInt64());
        Assert.True(new FileInfo(path).Length < model.Length / 4, $"file is {new FileInfo(path).Length} bytes");
    }

    [Fact]
    public async Task Image_qemu_img_convert_compressed_reads_back_in_qmpd()
    {
        using var dir = new TempDirectory();
        var raw = dir.File("src.raw");
        var model = new byte[(8 << 20) + 12345];
        var random = new Random(11);
        for (var offset = 0; offset < model.Length; offset += 65536)
        {
            var span = model.AsSpan(offset, Math.Min(65536, model.Length - offset));
            if ((offset >> 16) % 4 == 1)
                random.NextBytes(span);
            else if ((offset >> 16) % 4 != 2)
                FillCompressible(span, random, span.Length);
        }
        await System.IO.File.WriteAllBytesAsync(raw, model);
        var path = dir.File("c.qcow2");
        QemuTools.Img("convert", "-c", "-f", "raw", "-O", "qcow2", raw, path);
        Assert.True(QemuTools.CheckJson(path, out _).GetProperty("compressed-clusters").GetInt64() > 0);
        await using var image = await Qcow2Image.OpenAsync(path, readOnly: true);
        var back = new byte[model.Length];
        await image.Node.ReadAsync(0, back);
        Assert.True(model.AsSpan().SequenceEqual(back), "qmpd reads qemu-img's compressed clusters");
    }

    [Fact]
    public async Task Last_partial_cluster_is_padded_and_compressed()
    {
        using var dir = new TempDirectory();
        var path = dir.File("img.qcow2");
        var model = new byte[(3 * 65536) + 1024];
        FillCompressible(model, new Random(5), model.Length);
        await using (var image = await Qcow2Image.CreateAsync(path, new Qcow2CreateOptions { Size = model.Length }))
        {
            await image.Node.WriteAsync(0, model, BlockWriteFlags.Compressed);
            // A partial cluster elsewhere is no whole cluster: refused before anything changes.
            var e = await Assert.ThrowsAsync<BlockException>(async () => await image.Node.WriteAsync(65536, model.AsMemory(0, 1000), BlockWriteFlags.Compressed));
            Assert.Equal(BlockError.Invalid, e.Error);
        }
        await Qcow2WriteInteropTests.AssertCleanAndEqualAsync(dir, path, model);
        Assert.Equal(4, QemuTools.CheckJson(path, out _).GetProperty("compressed-clusters").GetInt64());
    }

    [Fact]
    public async Task Compressed_write_over_an_allocated_cluster_fails_with_EIO_and_changes_nothing()
    {
        using var dir = new TempDirectory();
        var path = dir.File("img.qcow2");
        var model = new byte[4 * 65536];
        FillCompressible(model, new Random(9), model.Length);
        await using (var image = await Qcow2Image.CreateAsync(path, new Qcow2CreateOptions { Size = model.Length }))
        {
            await image.Node.WriteAsync(0, model.AsMemory(0, 65536));
            await image.Node.WriteAsync(65536, model.AsMemory(65536, 65536), BlockWriteFlags.Compressed);
            // A zero cluster without a host cluster may be written compressed; a normal or compressed one may not.
            await image.Node.WriteZeroesAsync(131072, 65536, BlockWriteFlags.MayUnmap);
            await image.Node.WriteAsync(131072, model.AsMemory(131072, 65536), BlockWriteFlags.Compressed);
            var other = new byte[65536];
            foreach (var offset in new[] { 0, 65536, 131072 })
            {
                var e = await Assert.ThrowsAsync<BlockException>(async () => await image.Node.WriteAsync(offset, other, BlockWriteFlags.Compressed));
                Assert.Equal(BlockError.Io, e.Error);
                Assert.Equal("Input/output error", e.Message);
            }
        }
        model.AsSpan(196608).Clear();
        await Qcow2WriteInteropTests.AssertCleanAndEqualAsync(dir, path, model);
    }

    // The host cluster the next compressed data would go into may be freed and reused for normal data meanwhile.
    [Fact]
    public async Task Compressed_data_never_lands_in_a_freed_and_reused_host_cluster()
    {
        using var dir = new TempDirectory();
        var path = dir.File("img.qcow2");
        var model = new byte[40 * 65536];
        var random = new Random(13);
        await using (var image = await Qcow2Image.CreateAsync(path, new Qcow2CreateOptions { Size = model.Length }))
        {
            for (var c = 0; c < 10; c++)
            {
                FillCompressible(model.AsSpan(c * 65536, 65536), random, 65536);
                await image.Node.WriteAsync(c * 65536L, model.AsMemory(c * 65536, 65536), BlockWriteFlags.Compressed);
            }
            // Normal writes over the compressed clusters free their host clusters, which later allocations reuse; the last
            // compressed ones go first, so the host cluster with room left is reused for normal data at once.
            for (var c = 9; c >= 0; c--)
            {
                random.NextBytes(model.AsSpan(c * 65536, 65536));
                await image.Node.WriteAsync(c * 65536L, model.AsMemory(c * 65536, 65536));
            }
            for (var c = 10; c < 40; c++)
            {
                if (c % 3 == 0)
                {
                    random.NextBytes(model.AsSpan(c * 65536, 65536));
                    await image.Node.WriteAsync(c * 65536L, model.AsMemory(c * 65536, 65536));
                    continue;
                }
                FillCompressible(model.AsSpan(c * 65536, 65536), random, random.Next(1, 65536));
                await image.Node.WriteAsync(c * 65536L, model.AsMemory(c * 65536, 65536), BlockWriteFlags.Compressed);
            }
        }
        await Qcow2WriteInteropTests.AssertCleanAndEqualAsync(dir, path, model);
    }

    [Fact]
    public async Task Compressed_write_to_a_raw_node_is_refused()
    {
        using var dir = new TempDirectory();
        var path = dir.File("img.raw");
        await System.IO.File.WriteAllBytesAsync(path, new byte[65536]);
        var file = Qmp.Block.File.FileNode.Open(path, readOnly: false, locking: false);
        try
        {
            Assert.False(file.SupportsCompressedWrites);
            var e = await Assert.ThrowsAsync<BlockException>(async () => await file.WriteAsync(0, new byte[65536], BlockWriteFlags.Compressed));
            Assert.Equal(BlockError.NotSupported, e.Error);
        }
        finally
        {
            await file.CloseAsync();
        }
        Assert.Equal(new byte[65536], await System.IO.File.ReadAllBytesAsync(path));
    }

    // QEMU inflates with a 4 KiB window: a repeat 2 KiB back is found, one 8 KiB back must not be (it would be with .NET's 32 KiB).
    [Theory]
    [InlineData(2048, true)]
    [InlineData(8192, false)]
    public void Deflate_uses_a_4_KiB_window(int period, bool shrinks)
    {
        var cluster = new byte[65536];
        new Random(period).NextBytes(cluster.AsSpan(0, period));
        for (var at = period; at < cluster.Length; at += period)
            cluster.AsSpan(0, period).CopyTo(cluster.AsSpan(at));
        var output = new byte[cluster.Length - 1];
        var length = Qcow2Zlib.Compress(cluster, output);
        Assert.Equal(shrinks, length > 0 && length < cluster.Length / 4);
        Assert.Equal(shrinks, length > 0);
    }

    // Words from a small vocabulary: deflate shrinks it to a fraction, by an amount that varies with the length.
    private static void FillCompressible(Span<byte> span, Random random, int length)
    {
        string[] words = ["qcow2 ", "cluster ", "deflate ", "backup ", "refcount ", "L2 ", "zlib ", "\n"];
        var at = 0;
        while (at < length)
        {
            var word = words[random.Next(words.Length)];
            for (var i = 0; i < word.Length && at < length; i++)
                span[at++] = (byte)word[i];
        }
        span[length..].Clear();
    }
}
