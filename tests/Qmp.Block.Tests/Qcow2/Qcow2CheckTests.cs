using System.Buffers.Binary;
using Qmp.Block.Qcow2;

namespace Qmp.Block.Tests.Qcow2;

/// <summary>Our check agrees with qemu-img check on damaged images, and our repairs satisfy it.</summary>
public sealed class Qcow2CheckTests
{
    private const int ClusterSize = 65536;

    /// <summary>A 4 MiB image: L2 table in cluster 4, data in clusters 5–9 (QEMU's layout), file end at cluster 10.</summary>
    private static string MakeImage(TempDirectory dir)
    {
        var path = dir.File("c.qcow2");
        QemuTools.Img("create", "-q", "-f", "qcow2", path, "4M");
        QemuTools.Io(path, "write -P 0x11 0 256k", "write -z 1M 64k", "write -P 0x12 2M 64k");
        return path;
    }

    // Sets the 16-bit refcount of a cluster described by the first refcount block.
    private static void SetRefcount(string path, long cluster, ushort value)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        var buffer = new byte[8];
        stream.Position = 48;
        stream.ReadExactly(buffer);
        var table = (long)BinaryPrimitives.ReadUInt64BigEndian(buffer);
        stream.Position = table;
        stream.ReadExactly(buffer);
        var block = (long)BinaryPrimitives.ReadUInt64BigEndian(buffer);
        stream.Position = block + (cluster * 2);
        BinaryPrimitives.WriteUInt16BigEndian(buffer, value);
        stream.Write(buffer, 0, 2);
    }

    public static TheoryData<string, long, ushort, long> Damage => new()
    {
        // name, cluster, refcount, extra bytes appended to the file first
        { "unreferenced cluster with refcount 1", 11, 1, 3 * ClusterSize },
        { "data cluster with refcount 2", 5, 2, 0 },
        { "data cluster with refcount 0", 6, 0, 0 },
        { "L2 table with refcount 0", 4, 0, 0 },
        { "refcount block with refcount 3", 2, 3, 0 },
    };

    [Theory]
    [MemberData(nameof(Damage))]
    public async Task Check_agrees_with_qemu_img_on_damaged_refcounts(string what, long cluster, ushort refcount, long grow)
    {
        using var dir = new TempDirectory();
        var path = MakeImage(dir);
        if (grow > 0)
        {
            await using var stream = new FileStream(path, FileMode.Open);
            stream.SetLength(stream.Length + grow);
        }
        SetRefcount(path, cluster, refcount);
        var theirs = QemuTools.CheckJson(path, out var exit);
        Qcow2CheckResult ours;
        await using (var image = await Qcow2Image.OpenAsync(path, readOnly: true))
            ours = await image.Node.CheckAsync(Qcow2RepairMode.None);
        Assert.True(exit == ours.ExitCode, $"{what}: qemu exit {exit} ({theirs}), ours {ours.ExitCode}: {string.Join('\n', ours.Messages)}");
        Assert.Equal(Get(theirs, "leaks"), ours.Leaks);
        Assert.Equal(Get(theirs, "corruptions"), ours.Corruptions);
        Assert.Equal(Get(theirs, "image-end-offset"), ours.ImageEndOffset);
        Assert.Equal(Get(theirs, "allocated-clusters"), ours.AllocatedClusters);
    }

    [Theory]
    [MemberData(nameof(Damage))]
    public async Task Repair_all_leaves_image_qemu_img_finds_clean(string what, long cluster, ushort refcount, long grow)
    {
        using var dir = new TempDirectory();
        var path = MakeImage(dir);
        if (grow > 0)
        {
            await using var stream = new FileStream(path, FileMode.Open);
            stream.SetLength(stream.Length + grow);
        }
        SetRefcount(path, cluster, refcount);
        Qcow2CheckResult result;
        await using (var image = await Qcow2Image.OpenAsync(path, options: new Qcow2OpenOptions { OpenForRepair = true }))
            result = await image.Node.CheckAsync(Qcow2RepairMode.All);
        Assert.True(result.ExitCode == 0, $"{what}: {string.Join('\n', result.Messages)}");
        Assert.True(result.LeaksFixed + result.CorruptionsFixed > 0, what);
        var after = QemuTools.CheckJson(path, out var exit);
        Assert.True(exit == 0, $"{what}: {after}");
        QemuTools.Io(path, "read -P 0x11 0 256k", "read -P 0 1M 64k", "read -P 0x12 2M 64k");
    }

    [Fact]
    public async Task References_past_the_end_of_the_file_are_corruptions_like_in_qemu_img()
    {
        using var dir = new TempDirectory();
        var path = MakeImage(dir);
        // Cut off the last data cluster (cluster 9): its L2 entry now points past the end of the file.
        await using (var stream = new FileStream(path, FileMode.Open))
            stream.SetLength(9L * ClusterSize);
        var theirs = QemuTools.CheckJson(path, out var exit);
        await using var image = await Qcow2Image.OpenAsync(path, readOnly: true);
        var ours = await image.Node.CheckAsync(Qcow2RepairMode.None);
        Assert.Equal(2, exit);
        Assert.Equal(exit, ours.ExitCode);
        Assert.Equal(Get(theirs, "corruptions"), ours.Corruptions);
        Assert.Equal(Get(theirs, "image-end-offset"), ours.ImageEndOffset);
        Assert.Contains(ours.Messages, m => m.StartsWith("ERROR: counting reference for region exceeding the end of the file", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Repair_leaks_fixes_leaks_like_qemu_img_check_r_leaks()
    {
        using var dir = new TempDirectory();
        var path = MakeImage(dir);
        await using (var stream = new FileStream(path, FileMode.Open))
            stream.SetLength(stream.Length + (3 * ClusterSize));
        SetRefcount(path, 11, 1);
        SetRefcount(path, 12, 5);
        System.IO.File.Copy(path, dir.File("theirs.qcow2"));
        var theirs = QemuTools.CheckJson(dir.File("theirs.qcow2"), out var exit, "-r", "leaks");
        Assert.Equal(0, exit);
        Qcow2CheckResult ours;
        await using (var image = await Qcow2Image.OpenAsync(path))
            ours = await image.Node.CheckAsync(Qcow2RepairMode.Leaks);
        Assert.Equal(Get(theirs, "leaks-fixed"), ours.LeaksFixed);
        Assert.Equal(0, ours.Leaks);
        Assert.Equal(0, QemuTools.Run("qemu-img", "check", path).ExitCode);
    }

    [Fact]
    public async Task Copied_flag_errors_are_reported_and_repaired()
    {
        using var dir = new TempDirectory();
        var path = MakeImage(dir);
        // Clear COPIED in the first L2 entry (L2 table at cluster 4).
        await using (var stream = new FileStream(path, FileMode.Open))
        {
            stream.Position = 4 * ClusterSize;
            stream.WriteByte(0);
        }
        var theirs = QemuTools.CheckJson(path, out var exit);
        Qcow2CheckResult ours;
        await using (var image = await Qcow2Image.OpenAsync(path))
        {
            ours = await image.Node.CheckAsync(Qcow2RepairMode.None);
            Assert.Equal(exit, ours.ExitCode);
            Assert.Equal(Get(theirs, "corruptions"), ours.Corruptions);
            Assert.Contains(ours.Messages, m => m.StartsWith("ERROR OFLAG_COPIED data cluster", StringComparison.Ordinal));
            var repaired = await image.Node.CheckAsync(Qcow2RepairMode.All);
            Assert.Equal(0, repaired.ExitCode);
            Assert.Equal(1, repaired.CorruptionsFixed);
        }
        Assert.Equal(0, QemuTools.Run("qemu-img", "check", path).ExitCode);
    }

    [Fact]
    public async Task Check_reports_the_same_statistics_as_qemu_img_for_compressed_and_snapshot_images()
    {
        using var dir = new TempDirectory();
        var raw = new byte[2 << 20];
        for (var i = 0; i < raw.Length; i++)
            raw[i] = (byte)(i / 1000);
        await System.IO.File.WriteAllBytesAsync(dir.File("src.raw"), raw);
        QemuTools.Img("convert", "-c", "-f", "raw", "-O", "qcow2", dir.File("src.raw"), dir.File("c.qcow2"));
        QemuTools.Img("snapshot", "-c", "s", dir.File("c.qcow2"));
        QemuTools.Io(dir.File("c.qcow2"), "write -P 1 0 100k", "write -P 2 1M 64k");
        var theirs = QemuTools.CheckJson(dir.File("c.qcow2"), out var exit);
        Assert.Equal(0, exit);
        await using var image = await Qcow2Image.OpenAsync(dir.File("c.qcow2"), readOnly: true);
        var ours = await image.Node.CheckAsync(Qcow2RepairMode.None);
        Assert.Equal(0, ours.ExitCode);
        Assert.Equal(Get(theirs, "allocated-clusters"), ours.AllocatedClusters);
        Assert.Equal(Get(theirs, "fragmented-clusters"), ours.FragmentedClusters);
        Assert.Equal(Get(theirs, "compressed-clusters"), ours.CompressedClusters);
        Assert.Equal(Get(theirs, "image-end-offset"), ours.ImageEndOffset);
        Assert.Equal(Get(theirs, "total-clusters"), ours.TotalClusters);
    }

    private static long Get(System.Text.Json.JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) ? value.GetInt64() : 0;
}
