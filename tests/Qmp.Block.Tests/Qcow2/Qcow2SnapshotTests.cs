using Qmp.Block.Qcow2;

namespace Qmp.Block.Tests.Qcow2;

/// <summary>Internal snapshots made by qemu-img survive our writes: shared clusters are copied, never overwritten.</summary>
public sealed class Qcow2SnapshotTests
{
    [Theory]
    [InlineData(65536)]
    [InlineData(4096)]
    public async Task Writes_after_qemu_snapshot_keep_snapshot_contents_and_check_clean(int clusterSize)
    {
        using var dir = new TempDirectory();
        var path = dir.File("s.qcow2");
        QemuTools.Img("create", "-q", "-f", "qcow2", "-o", $"cluster_size={clusterSize}", path, "4M");
        QemuTools.Io(path, "write -P 0x11 0 3M", "write -z 3M 256k", "write -P 0x12 3584k 64k");
        QemuTools.Img("snapshot", "-c", "snap1", path);
        QemuTools.Io(path, "write -P 0x21 1M 512k", "write -z 2M 64k");
        QemuTools.Img("snapshot", "-c", "snap2", path);
        QemuTools.Img("convert", "-l", "snap1", "-O", "raw", path, dir.File("snap1-before.raw"));
        QemuTools.Img("convert", "-l", "snap2", "-O", "raw", path, dir.File("snap2-before.raw"));
        QemuTools.Img("convert", "-O", "raw", path, dir.File("active.raw"));
        var model = await System.IO.File.ReadAllBytesAsync(dir.File("active.raw"));

        await using (var image = await Qcow2Image.OpenAsync(path))
        {
            Assert.Equal(["snap1", "snap2"], image.Node.DescribeImage().Snapshots.Select(s => s.Name));
            var workload = new Workload(image.Node, model, clusterSize, version3: true, hasBacking: false, seed: clusterSize);
            await workload.RunAsync(150);
            await workload.WriteAsync(0, 3 << 20);
        }

        await Qcow2WriteInteropTests.AssertCleanAndEqualAsync(dir, path, model);
        var list = QemuTools.Img("snapshot", "-l", path);
        Assert.Contains("snap1", list);
        Assert.Contains("snap2", list);
        QemuTools.Img("convert", "-l", "snap1", "-O", "raw", path, dir.File("snap1-after.raw"));
        QemuTools.Img("convert", "-l", "snap2", "-O", "raw", path, dir.File("snap2-after.raw"));
        Assert.Equal(await System.IO.File.ReadAllBytesAsync(dir.File("snap1-before.raw")), await System.IO.File.ReadAllBytesAsync(dir.File("snap1-after.raw")));
        Assert.Equal(await System.IO.File.ReadAllBytesAsync(dir.File("snap2-before.raw")), await System.IO.File.ReadAllBytesAsync(dir.File("snap2-after.raw")));

        // QEMU can still delete the snapshots: their refcounts are what it expects.
        QemuTools.Img("snapshot", "-d", "snap1", path);
        QemuTools.Img("snapshot", "-d", "snap2", path);
        Assert.Equal(0, QemuTools.Run("qemu-img", "check", path).ExitCode);
        await Qcow2WriteInteropTests.AssertCleanAndEqualAsync(dir, path, model);
    }

    [Fact]
    public async Task Snapshot_table_is_described_like_qemu_img_info()
    {
        using var dir = new TempDirectory();
        var path = dir.File("s.qcow2");
        QemuTools.Img("create", "-q", "-f", "qcow2", path, "1M");
        QemuTools.Img("snapshot", "-c", "alpha", path);
        QemuTools.Img("snapshot", "-c", "beta", path);
        var json = System.Text.Json.JsonDocument.Parse(QemuTools.Img("info", "--output=json", path)).RootElement.GetProperty("snapshots");
        await using var image = await Qcow2Image.OpenAsync(path, readOnly: true);
        var ours = image.Node.DescribeImage().Snapshots;
        Assert.Equal(json.GetArrayLength(), ours.Count);
        for (var i = 0; i < ours.Count; i++)
        {
            var theirs = json[i];
            Assert.Equal(theirs.GetProperty("id").GetString(), ours[i].Id);
            Assert.Equal(theirs.GetProperty("name").GetString(), ours[i].Name);
            Assert.Equal(theirs.GetProperty("date-sec").GetInt64(), ours[i].DateSeconds);
            Assert.Equal(theirs.GetProperty("date-nsec").GetInt64(), ours[i].DateNanoseconds);
            Assert.Equal(theirs.GetProperty("vm-state-size").GetInt64(), ours[i].VmStateSize);
            Assert.Equal(theirs.TryGetProperty("icount", out var icount) ? icount.GetInt64() : null, ours[i].Icount);
        }
    }
}
