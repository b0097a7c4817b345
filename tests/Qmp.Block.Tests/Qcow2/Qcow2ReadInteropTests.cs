using System.Globalization;
using Qmp.Block.Qcow2;

namespace Qmp.Block.Tests.Qcow2;

/// <summary>Images made and written by qemu-img/qemu-io read back as QEMU reads them, and map as QEMU maps them.</summary>
public sealed class Qcow2ReadInteropTests
{
    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>qemu-io commands touching data, partial clusters, zero (plain and preallocated) and discarded clusters.</summary>
    internal static string[] MixedWrites(long cs, long size) =>
    [
        $"write -P 0xab 0 {N(cs)}",
        $"write -P 0x11 {N(cs + (cs / 4))} {N(cs / 2)}",
        $"write -P 0x22 {N(3 * cs)} {N(4 * cs)}",
        $"write -z {N(4 * cs)} {N(cs)}",
        $"write -z -u {N(5 * cs)} {N(cs)}",
        $"write -z {N(8 * cs)} {N(2 * cs)}",
        $"discard {N(6 * cs)} {N(cs)}",
        $"write -P 0x33 {N((10 * cs) - 512)} 1024",
        $"write -P 0x44 {N(size - cs)} {N(cs)}",
        $"write -P 0x55 {N(12 * cs)} {N(512)}",
    ];

    [Theory]
    [InlineData(512, "1.1", false)]
    [InlineData(4096, "1.1", false)]
    [InlineData(65536, "1.1", false)]
    [InlineData(2 << 20, "1.1", false)]
    [InlineData(65536, "0.10", false)]
    [InlineData(65536, "1.1", true)]
    public async Task Reads_and_maps_qemu_written_image_like_qemu(int clusterSize, string compat, bool lazy)
    {
        using var dir = new TempDirectory();
        var path = dir.File("a.qcow2");
        var size = Math.Max(32L * clusterSize, 1 << 20);
        QemuTools.Img("create", "-q", "-f", "qcow2", "-o", $"cluster_size={clusterSize},compat={compat},lazy_refcounts={(lazy ? "on" : "off")}", path, N(size));
        QemuTools.Io(path, MixedWrites(clusterSize, size));
        await AssertReadsLikeQemuAsync(dir, path);
    }

    [Fact]
    public async Task Reads_overlay_on_raw_backing_file_with_backing_data_showing_through()
    {
        using var dir = new TempDirectory();
        var size = 4L << 20;
        QemuTools.Img("create", "-q", "-f", "raw", dir.File("base.raw"), N(size));
        QemuTools.Io(dir.File("base.raw"), "write -P 0x77 0 3M", "write -P 0x78 3584k 256k");
        // The raw base is shorter than the overlay would allow: the overlay is made larger afterwards.
        QemuTools.Img("create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", dir.File("top.qcow2"));
        QemuTools.Io(dir.File("top.qcow2"), MixedWrites(65536, size));
        await AssertReadsLikeQemuAsync(dir, dir.File("top.qcow2"));
    }

    [Fact]
    public async Task Reads_chain_of_three_qcow2_images()
    {
        using var dir = new TempDirectory();
        var size = 4L << 20;
        QemuTools.Img("create", "-q", "-f", "qcow2", dir.File("base.qcow2"), N(size));
        QemuTools.Io(dir.File("base.qcow2"), "write -P 0x01 0 4M");
        QemuTools.Img("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", dir.File("mid.qcow2"));
        QemuTools.Io(dir.File("mid.qcow2"), "write -P 0x02 64k 1M", "write -z 2M 128k", "discard 3M 64k");
        QemuTools.Img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", "-b", "mid.qcow2", "-F", "qcow2", dir.File("top.qcow2"));
        QemuTools.Io(dir.File("top.qcow2"), "write -P 0x03 100k 20k", "write -z 1M 64k", "write -P 0x04 3M 8k");
        await AssertReadsLikeQemuAsync(dir, dir.File("top.qcow2"));
    }

    [Theory]
    [InlineData(65536)]
    [InlineData(4096)]
    [InlineData(512)]
    public async Task Reads_compressed_clusters_written_by_qemu_img_convert(int clusterSize)
    {
        using var dir = new TempDirectory();
        var raw = new byte[3 << 20];
        var random = new Random(clusterSize);
        for (var i = 0; i < raw.Length; i += 4096)
        {
            // Mostly compressible text-like data, some random blocks, some zeroes.
            if (i % (256 * 1024) < 64 * 1024)
                random.NextBytes(raw.AsSpan(i, 4096));
            else if (i % (256 * 1024) < 192 * 1024)
                raw.AsSpan(i, 4096).Fill((byte)(i / 4096));
        }
        await System.IO.File.WriteAllBytesAsync(dir.File("src.raw"), raw);
        QemuTools.Img("convert", "-c", "-f", "raw", "-O", "qcow2", "-o", $"cluster_size={clusterSize}", dir.File("src.raw"), dir.File("c.qcow2"));
        await using var image = await Qcow2Image.OpenAsync(dir.File("c.qcow2"), readOnly: true);
        AssertSameBytes(raw, await ReadAllAsync(image.Node, 65536 + 4096 + 7), "compressed read");
        var check = QemuTools.CheckJson(dir.File("c.qcow2"), out _);
        Assert.True(check.GetProperty("compressed-clusters").GetInt64() > 0);
        ImageMap.AssertEquivalent(QemuTools.Map(dir.File("c.qcow2")), await ImageMap.OfAsync(image.Node));
    }

    [Fact]
    public async Task Describes_qemu_image_like_qemu_img_info()
    {
        using var dir = new TempDirectory();
        QemuTools.Img("create", "-q", "-f", "raw", dir.File("base.raw"), "1M");
        QemuTools.Img("create", "-q", "-f", "qcow2", "-o", "lazy_refcounts=on,refcount_bits=32,cluster_size=8192", "-b", "base.raw", "-F", "raw", dir.File("top.qcow2"));
        QemuTools.Io(dir.File("top.qcow2"), "write -P 1 0 64k");
        QemuTools.Img("snapshot", "-c", "first", dir.File("top.qcow2"));
        await using var image = await Qcow2Image.OpenAsync(dir.File("top.qcow2"), readOnly: true);
        var info = image.Node.DescribeImage();
        Assert.Equal(1 << 20, info.VirtualSize);
        Assert.Equal(8192, info.ClusterSize);
        Assert.Equal("base.raw", info.BackingFilename);
        Assert.Equal(dir.File("base.raw"), info.FullBackingFilename);
        Assert.Equal("raw", info.BackingFilenameFormat);
        Assert.Equal(new Qcow2ImageInfo("1.1", true, false, 32, false, "zlib"), info.Qcow2);
        var snapshot = Assert.Single(info.Snapshots);
        Assert.Equal(("1", "first"), (snapshot.Id, snapshot.Name));
        Assert.Equal("raw", info.BackingImage?.Format);
        Assert.Equal(1 << 20, info.BackingImage?.VirtualSize);
    }

    internal static async Task AssertReadsLikeQemuAsync(TempDirectory dir, string path)
    {
        var expectedPath = dir.File("expected.raw");
        QemuTools.Img("convert", "-O", "raw", path, expectedPath);
        var expected = await System.IO.File.ReadAllBytesAsync(expectedPath);
        var map = QemuTools.Map(path);
        await using var image = await Qcow2Image.OpenAsync(path, readOnly: true);
        Assert.Equal(expected.Length, image.Node.Length);
        var whole = await ReadAllAsync(image.Node, expected.Length);
        AssertSameBytes(expected, whole, "whole-image read");
        var chunked = await ReadAllAsync(image.Node, 12345);
        AssertSameBytes(expected, chunked, "chunked read");
        ImageMap.AssertEquivalent(map, await ImageMap.OfAsync(image.Node));
    }

    /// <summary>Compares big buffers, naming the first differing offset instead of dumping megabytes.</summary>
    internal static void AssertSameBytes(byte[] expected, byte[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var mismatch = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(mismatch == expected.Length, $"{what}: first difference at offset {mismatch} (expected {(mismatch < expected.Length ? expected[mismatch] : 0)}, got {(mismatch < actual.Length ? actual[mismatch] : 0)})");
    }

    internal static async Task<byte[]> ReadAllAsync(BlockNode node, int chunk)
    {
        var data = new byte[node.Length];
        for (long offset = 0; offset < data.Length; offset += chunk)
        {
            var length = (int)Math.Min(chunk, data.Length - offset);
            await node.ReadAsync(offset, data.AsMemory((int)offset, length));
        }
        return data;
    }
}
