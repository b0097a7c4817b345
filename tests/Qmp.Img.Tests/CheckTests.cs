using System.Buffers.Binary;

namespace Qmp.Img.Tests;

/// <summary>check on clean, leaking and corrupt images: qemu-img's texts and exit codes, and repairs qemu-img accepts.</summary>
public sealed class CheckTests
{
    // A fresh 1 MiB image with one 64 KiB write: header, refcount table, refcount block (cluster 2), L1, L2, data (cluster 5).
    private const long RefcountBlock = 2 * 65536;

    [Fact]
    public async Task Clean_image_and_raw_image()
    {
        using var scratch = new Scratch();
        await MakeAsync(scratch, "clean.qcow2");
        Assert.Equal(0, (await Tools.SameAsync(scratch.Root, "check", "clean.qcow2")).ExitCode);
        Assert.Equal(0, (await Tools.SameAsync(scratch.Root, "check", "--output=json", "clean.qcow2")).ExitCode);
        await Tools.QemuImgAsync(scratch.Root, "create", "-f", "raw", "disk.raw", "1M");
        Assert.Equal(63, (await Tools.SameAsync(scratch.Root, "check", "disk.raw")).ExitCode);
        Assert.Equal(1, (await Tools.SameAsync(scratch.Root, "check", "-r", "bogus", "disk.raw")).ExitCode);
    }

    [Fact]
    public async Task Leak_exits_3_and_repairs()
    {
        using var scratch = new Scratch();
        await MakeAsync(scratch, "leak.qcow2");
        SetRefcount(scratch, "leak.qcow2", 6, 1);
        scratch.SetLength("leak.qcow2", 7 * 65536);
        Assert.Equal(3, (await Tools.SameAsync(scratch.Root, "check", "leak.qcow2")).ExitCode);
        Assert.Equal(3, (await Tools.SameAsync(scratch.Root, "check", "--output=json", "leak.qcow2")).ExitCode);
        File.Copy(scratch.PathOf("leak.qcow2"), scratch.PathOf("copy.qcow2"));

        var theirs = await Tools.QemuImgAsync(scratch.Root, "check", "-r", "leaks", "leak.qcow2");
        var ours = await Tools.QimgAsync(scratch.Root, "check", "-r", "leaks", "copy.qcow2");
        Assert.Equal(theirs.Normalized.Replace("leak.qcow2", "copy.qcow2", StringComparison.Ordinal), ours.Normalized);
        Assert.Equal(0, ours.ExitCode);
        Assert.Equal(0, (await Tools.QemuImgAsync(scratch.Root, "check", "copy.qcow2")).ExitCode);
    }

    [Fact]
    public async Task Corruption_exits_2_and_repair_all_fixes_it()
    {
        using var scratch = new Scratch();
        await MakeAsync(scratch, "bad.qcow2");
        SetRefcount(scratch, "bad.qcow2", 5, 0);
        Assert.Equal(2, (await Tools.SameAsync(scratch.Root, "check", "bad.qcow2")).ExitCode);
        Assert.Equal(2, (await Tools.SameAsync(scratch.Root, "check", "--output=json", "bad.qcow2")).ExitCode);

        var repaired = await Tools.QimgAsync(scratch.Root, "check", "-r", "all", "bad.qcow2");
        Assert.Equal(0, repaired.ExitCode);
        Assert.Contains("No errors were found on the image.", repaired.Stdout);
        Assert.Equal(0, (await Tools.QemuImgAsync(scratch.Root, "check", "bad.qcow2")).ExitCode);
        await Tools.QemuIoAsync(scratch.Root, "bad.qcow2", "read -P 0xab 0 64k");
    }

    [Fact]
    public async Task Repair_opens_an_image_marked_corrupt_and_clears_the_mark()
    {
        using var scratch = new Scratch();
        await MakeAsync(scratch, "marked.qcow2");
        SetRefcount(scratch, "marked.qcow2", 6, 1);
        scratch.SetLength("marked.qcow2", 7 * 65536);
        using (var stream = new FileStream(scratch.PathOf("marked.qcow2"), FileMode.Open, FileAccess.Write))
        {
            stream.Position = 79;
            stream.WriteByte(2);
        }
        Assert.Contains("corrupt: true", (await Tools.QemuImgAsync(scratch.Root, "info", "marked.qcow2")).Stdout);
        File.Copy(scratch.PathOf("marked.qcow2"), scratch.PathOf("theirs.qcow2"));
        var theirs = await Tools.QemuImgAsync(scratch.Root, "check", "-r", "all", "theirs.qcow2");
        var ours = await Tools.QimgAsync(scratch.Root, "check", "-r", "all", "marked.qcow2");
        Assert.Equal(theirs.Normalized.Replace("theirs.qcow2", "marked.qcow2", StringComparison.Ordinal), ours.Normalized);
        Assert.Equal(0, ours.ExitCode);
        Assert.Contains("corrupt: false", (await Tools.QemuImgAsync(scratch.Root, "info", "marked.qcow2")).Stdout);
    }

    private static async Task MakeAsync(Scratch scratch, string name)
    {
        await Tools.QemuImgAsync(scratch.Root, "create", "-f", "qcow2", name, "1M");
        await Tools.QemuIoAsync(scratch.Root, name, "write -P 0xab 0 64k");
    }

    private static void SetRefcount(Scratch scratch, string name, int cluster, ushort refcount)
    {
        using var stream = new FileStream(scratch.PathOf(name), FileMode.Open, FileAccess.Write);
        stream.Position = RefcountBlock + (2 * cluster);
        Span<byte> value = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(value, refcount);
        stream.Write(value);
    }
}
