namespace Qmp.Img.Tests;

/// <summary>qimg create against qemu-img create: the same Formatting line, the same bytes, images each tool accepts.</summary>
public sealed class CreateTests
{
    [Theory]
    [InlineData("-f", "qcow2", "1M")]
    [InlineData("-f", "qcow2", "-o", "cluster_size=4k,compat=0.10", "10G")]
    [InlineData("-f", "qcow2", "-o", "lazy_refcounts=on,refcount_bits=64,preallocation=metadata", "2M")]
    [InlineData("-f", "qcow2", "-o", "refcount_bits=8,cluster_size=2M", "1.5G")]
    [InlineData("-f", "raw", "1M")]
    [InlineData("-f", "raw", "100")]
    [InlineData("-f", "qcow2", "1.5k")]
    public async Task Creates_the_image_qemu_img_creates(params string[] options)
    {
        using var scratch = new Scratch();
        var theirs = await Tools.QemuImgAsync(scratch.Root, ["create", .. options[..^1], "img", options[^1]]);
        File.Move(scratch.PathOf("img"), scratch.PathOf("qemu"));
        var ours = await Tools.QimgAsync(scratch.Root, ["create", .. options[..^1], "img", options[^1]]);
        Assert.Equal(0, ours.ExitCode);
        Assert.Equal(theirs.Normalized, ours.Normalized);
        Assert.Equal(scratch.Read("qemu"), scratch.Read("img"));
        if (options[1] == "qcow2")
            Assert.Equal(0, (await Tools.QemuImgAsync(scratch.Root, "check", "img")).ExitCode);
        await Tools.SameAsync(scratch.Root, "info", "img");
    }

    [Fact]
    public async Task Overlay_takes_the_backing_size_and_reads_through_it()
    {
        using var scratch = new Scratch();
        await Tools.QemuImgAsync(scratch.Root, "create", "-f", "qcow2", "base.qcow2", "1M");
        await Tools.QemuIoAsync(scratch.Root, "base.qcow2", "write -P 0x5a 64k 64k");
        var ours = await Tools.QimgAsync(scratch.Root, "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "overlay.qcow2");
        Assert.Equal("Formatting 'overlay.qcow2', fmt=qcow2 cluster_size=65536 extended_l2=off compression_type=zlib size=1048576 backing_file=base.qcow2 backing_fmt=qcow2 lazy_refcounts=off refcount_bits=16\n", ours.Stdout);
        await Tools.QemuIoAsync(scratch.Root, "overlay.qcow2", "read -P 0x5a 64k 64k", "write -P 0x11 0 4k");
        await Tools.SameAsync(scratch.Root, "info", "--backing-chain", "overlay.qcow2");
        Assert.Equal(0, (await Tools.QemuImgAsync(scratch.Root, "check", "overlay.qcow2")).ExitCode);
    }

    [Theory]
    [InlineData("create", "-f", "qcow2", "-o", "foo=bar", "x", "1M")]
    [InlineData("create", "-f", "qcow2", "-o", "cluster_size=1000", "x", "1M")]
    [InlineData("create", "-f", "qcow2", "-o", "cluster_size=abc", "x", "1M")]
    [InlineData("create", "-f", "qcow2", "-o", "compat=2", "x", "1M")]
    [InlineData("create", "-f", "qcow2", "-o", "size=2M", "x", "1M")]
    [InlineData("create", "-f", "qcow2", "-b", "nonexist", "-F", "qcow2", "x")]
    [InlineData("create", "-f", "qcow2", "x")]
    [InlineData("create", "-f", "qcow2", "x", "12X")]
    [InlineData("create", "-f", "qcow2", "x", "9E")]
    [InlineData("create", "-f", "qcow2", "x", "1M", "extra")]
    [InlineData("create", "-f", "raw", "-b", "y", "x", "1M")]
    [InlineData("create")]
    public async Task Refuses_what_qemu_img_refuses(params string[] args)
    {
        using var scratch = new Scratch();
        var run = await Tools.SameAsync(scratch.Root, args);
        Assert.NotEqual(0, run.ExitCode);
    }
}
