namespace Qmp.Img.Tests;

/// <summary>Images made by QEMU itself, with the features the read-side commands must agree on.</summary>
internal static class SampleImages
{
    /// <summary>
    /// base.qcow2 (1 MiB: data at 0, a zero cluster at 512k, the rest unallocated), overlay.qcow2 (5 MiB over it:
    /// its own data at 128k and 3M, zero clusters at 4M, the rest showing the base or, past its end, zeroes),
    /// snap.qcow2 (an internal snapshot), v2.qcow2 (compat 0.10, 4k clusters), prealloc.qcow2 (metadata
    /// preallocation), odd.raw (3,000,000 bytes: not whole sectors) and sparse.raw (data between holes).
    /// </summary>
    public static async Task MakeAsync(Scratch scratch)
    {
        var dir = scratch.Root;
        await Tools.QemuImgAsync(dir, "create", "-f", "qcow2", "base.qcow2", "1M");
        await Tools.QemuIoAsync(dir, "base.qcow2", "write -P 0xab 0 64k", "write -z 512k 64k");
        await Tools.QemuImgAsync(dir, "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "overlay.qcow2", "5M");
        await Tools.QemuIoAsync(dir, "overlay.qcow2", "write -P 0xcd 128k 64k", "write -P 1 3M 64k", "write -z 4M 128k");
        await Tools.QemuImgAsync(dir, "create", "-f", "qcow2", "snap.qcow2", "2M");
        await Tools.QemuIoAsync(dir, "snap.qcow2", "write -P 7 0 128k");
        await Tools.QemuImgAsync(dir, "snapshot", "-c", "first", "snap.qcow2");
        await Tools.QemuImgAsync(dir, "create", "-f", "qcow2", "-o", "compat=0.10,cluster_size=4k", "v2.qcow2", "8M");
        await Tools.QemuIoAsync(dir, "v2.qcow2", "write -P 3 8k 12k");
        await Tools.QemuImgAsync(dir, "create", "-f", "qcow2", "-o", "preallocation=metadata", "prealloc.qcow2", "2M");
        scratch.WriteRandom("odd.raw", 0, 3_000_000, 1);
        scratch.SetLength("sparse.raw", 8 << 20);
        scratch.WriteRandom("sparse.raw", 1 << 20, 256 << 10, 2);
        scratch.WriteRandom("sparse.raw", 5 << 20, 4096, 3);
    }

    private static readonly Lazy<Task<Scratch>> _shared = new(CreateSharedAsync);

    /// <summary>
    /// One set of sample images for the whole run (making them takes a few dozen qemu-img/qemu-io runs). Tests only
    /// read them and write new files with names of their own; removed when the test process exits.
    /// </summary>
    public static Task<Scratch> SharedAsync() => _shared.Value;

    private static async Task<Scratch> CreateSharedAsync()
    {
        var scratch = new Scratch();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => scratch.Dispose();
        await MakeAsync(scratch);
        return scratch;
    }

    public static readonly string[] All = ["base.qcow2", "overlay.qcow2", "snap.qcow2", "v2.qcow2", "prealloc.qcow2", "odd.raw", "sparse.raw"];
}
