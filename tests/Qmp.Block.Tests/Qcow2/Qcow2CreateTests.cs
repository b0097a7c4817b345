using Qmp.Block.File;
using Qmp.Block.Qcow2;

namespace Qmp.Block.Tests.Qcow2;

public sealed class Qcow2CreateTests
{
    [Theory]
    [InlineData(1 << 20, 65536, "1.1", false, 16)]
    [InlineData(1L << 30, 65536, "1.1", false, 16)]
    [InlineData(0, 65536, "1.1", false, 16)]
    [InlineData(1 << 20, 512, "1.1", false, 16)]
    [InlineData(1 << 20, 4096, "1.1", false, 16)]
    [InlineData(1 << 20, 8192, "1.1", false, 16)]
    [InlineData(100L << 30, 4096, "1.1", false, 16)]
    [InlineData(1 << 20, 2 << 20, "1.1", false, 16)]
    [InlineData(1 << 20, 65536, "0.10", false, 16)]
    [InlineData(1 << 20, 65536, "1.1", true, 8)]
    [InlineData(64 << 20, 65536, "1.1", false, 1)]
    [InlineData(64 << 20, 65536, "1.1", false, 64)]
    public async Task Create_lays_the_image_out_byte_for_byte_like_qemu_img(long size, int clusterSize, string compat, bool lazy, int refcountBits)
    {
        using var dir = new TempDirectory();
        var ours = dir.File("ours.qcow2");
        var theirs = dir.File("theirs.qcow2");
        await CreateAsync(ours, new Qcow2CreateOptions { Size = size, ClusterSize = clusterSize, Compat = compat, LazyRefcounts = lazy, RefcountBits = refcountBits });
        QemuTools.Img("create", "-q", "-f", "qcow2", "-o", $"cluster_size={clusterSize},compat={compat},lazy_refcounts={(lazy ? "on" : "off")},refcount_bits={refcountBits}", theirs, size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(await System.IO.File.ReadAllBytesAsync(theirs), await System.IO.File.ReadAllBytesAsync(ours));
        Assert.Equal(0, QemuTools.Run("qemu-img", "check", ours).ExitCode);
    }

    [Theory]
    [InlineData("1.1", 65536)]
    [InlineData("0.10", 65536)]
    [InlineData("1.1", 512)]
    public async Task Create_with_backing_file_writes_name_and_format_like_qemu_img(string compat, int clusterSize)
    {
        using var dir = new TempDirectory();
        QemuTools.Img("create", "-q", "-f", "raw", dir.File("base.raw"), "1M");
        await CreateAsync(dir.File("ours.qcow2"), new Qcow2CreateOptions { Size = 1 << 20, Compat = compat, ClusterSize = clusterSize, BackingFile = "base.raw", BackingFormat = "raw" });
        QemuTools.Img("create", "-q", "-f", "qcow2", "-o", $"compat={compat},cluster_size={clusterSize}", "-b", "base.raw", "-F", "raw", dir.File("theirs.qcow2"));
        Assert.Equal(await System.IO.File.ReadAllBytesAsync(dir.File("theirs.qcow2")), await System.IO.File.ReadAllBytesAsync(dir.File("ours.qcow2")));
    }

    [Fact]
    public async Task Create_with_metadata_preallocation_matches_qemu_img()
    {
        using var dir = new TempDirectory();
        await CreateAsync(dir.File("ours.qcow2"), new Qcow2CreateOptions { Size = 1 << 20, Preallocation = "metadata" });
        QemuTools.Img("create", "-q", "-f", "qcow2", "-o", "preallocation=metadata", dir.File("theirs.qcow2"), "1M");
        Assert.Equal(await System.IO.File.ReadAllBytesAsync(dir.File("theirs.qcow2")), await System.IO.File.ReadAllBytesAsync(dir.File("ours.qcow2")));
    }

    [Theory]
    [InlineData(65536, 1000, "1.1", 16, null, "Cluster size must be a power of two between 512 and 2048k")]
    [InlineData(65536, 65536, "0.11", 16, null, "Invalid compatibility level: '0.11'")]
    [InlineData(65536, 65536, "0.10", 8, null, "Different refcount widths than 16 bits require compatibility level 1.1 or above (use version=v3 or greater)")]
    [InlineData(65536, 65536, "1.1", 3, null, "Refcount width must be a power of two and may not exceed 64 bits")]
    [InlineData(65536, 65536, "1.1", 16, "raw", "Backing format cannot be used without backing file")]
    public async Task Create_rejects_invalid_options_with_qemu_messages(int size, int clusterSize, string compat, int refcountBits, string? backingFormat, string message)
    {
        using var dir = new TempDirectory();
        var e = await Assert.ThrowsAsync<BlockException>(() => CreateAsync(dir.File("x.qcow2"), new Qcow2CreateOptions
        {
            Size = size,
            ClusterSize = clusterSize,
            Compat = compat,
            RefcountBits = refcountBits,
            BackingFormat = backingFormat,
        }));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public async Task Created_image_opens_and_describes_itself_like_qemu_img_info()
    {
        using var dir = new TempDirectory();
        var path = dir.File("x.qcow2");
        await using (var image = await Qcow2Image.CreateAsync(path, new Qcow2CreateOptions { Size = 4 << 20, LazyRefcounts = true }))
        {
            var info = image.Node.DescribeImage();
            Assert.Equal("qcow2", info.Format);
            Assert.Equal(4 << 20, info.VirtualSize);
            Assert.Equal(65536, info.ClusterSize);
            Assert.False(info.DirtyFlag);
            Assert.Equal(new Qcow2ImageInfo("1.1", true, false, 16, false, "zlib"), info.Qcow2);
            Assert.Null(info.BackingFilename);
        }
        var json = System.Text.Json.JsonDocument.Parse(QemuTools.Img("info", "--output=json", path)).RootElement;
        Assert.True(json.GetProperty("format-specific").GetProperty("data").GetProperty("lazy-refcounts").GetBoolean());
        Assert.False(json.GetProperty("dirty-flag").GetBoolean());
    }

    internal static async Task CreateAsync(string path, Qcow2CreateOptions options)
    {
        await System.IO.File.WriteAllBytesAsync(path, []);
        var file = FileNode.Open(path, readOnly: false, locking: false);
        try
        {
            await Qcow2Node.CreateAsync(file, options, CancellationToken.None);
        }
        finally
        {
            await file.CloseAsync();
        }
    }
}
