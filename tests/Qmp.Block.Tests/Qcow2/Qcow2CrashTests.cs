using Qmp.Block.File;
using Qmp.Block.Qcow2;

namespace Qmp.Block.Tests.Qcow2;

/// <summary>
/// A process killed at any point leaves an image qemu-img check finds clean or merely leaking, and
/// <c>check -r all</c> (theirs or ours) makes clean. Every prefix of the completed writes is a possible
/// state after a kill; a sample of them is rebuilt and checked.
/// </summary>
public sealed class Qcow2CrashTests
{
    [Theory]
    [InlineData(65536, false, false, 16)]
    [InlineData(512, true, false, 16)]
    [InlineData(4096, false, true, 16)]
    [InlineData(512, false, false, 64)]
    public async Task Image_is_consistent_or_only_leaks_after_a_kill_at_any_write(int clusterSize, bool backing, bool snapshot, int refcountBits)
    {
        using var dir = new TempDirectory();
        var size = 4L << 20;
        var path = dir.File("crash.qcow2");
        if (backing)
        {
            QemuTools.Img("create", "-q", "-f", "raw", dir.File("base.raw"), "4M");
            QemuTools.Io(dir.File("base.raw"), "write -P 0x42 0 4M");
        }
        await Qcow2CreateTests.CreateAsync(path, new Qcow2CreateOptions
        {
            Size = size,
            ClusterSize = clusterSize,
            RefcountBits = refcountBits,
            BackingFile = backing ? "base.raw" : null,
            BackingFormat = backing ? "raw" : null,
        });
        if (snapshot)
        {
            QemuTools.Io(path, "write -P 0x17 0 2M");
            QemuTools.Img("snapshot", "-c", "before", path);
        }
        var initial = await System.IO.File.ReadAllBytesAsync(path);

        var file = FileNode.Open(path, readOnly: false, locking: false);
        var recorder = new RecordingNode(file);
        var node = await Qcow2Node.OpenAsync(recorder, readOnly: false, Qcow2OpenOptions.Default, CancellationToken.None);
        var backingFile = backing ? FileNode.Open(dir.File("base.raw"), readOnly: true, locking: false) : null;
        if (backingFile is not null)
            node.AttachBacking(Raw.RawNode.Open(backingFile, readOnly: true));
        if (refcountBits == 64)
        {
            // Fill most of the disk first so the refcount table has to grow while we record.
            await node.WriteAsync(0, new byte[3 << 20].Select((_, i) => (byte)i).ToArray());
        }
        var tasks = Enumerable.Range(0, 4).Select(t => Task.Run(async () =>
        {
            // Each task has its own model; only metadata consistency is judged here.
            var workload = new Workload(node, new byte[size], clusterSize, version3: true, hasBacking: backing, seed: t) { MaxLength = 64 * 1024, VerifyReads = false };
            await workload.RunAsync(60);
        })).ToArray();
        await Task.WhenAll(tasks);
        await node.CloseAsync();
        await recorder.CloseAsync();
        await file.CloseAsync();
        if (backingFile is not null)
            await backingFile.CloseAsync();

        var log = recorder.Log;
        Assert.True(log.Count > 100, $"only {log.Count} writes");
        var random = new Random(clusterSize);
        var points = Enumerable.Range(0, 24).Select(_ => random.Next(log.Count + 1)).Append(log.Count).Distinct().Order().ToList();
        using var state = new MemoryStream();
        state.Write(initial);
        var applied = 0;
        var leaking = 0;
        foreach (var point in points)
        {
            for (; applied < point; applied++)
                RecordingNode.Apply(state, log[applied]);
            var copy = dir.File($"copy-{point}.qcow2");
            await System.IO.File.WriteAllBytesAsync(copy, state.ToArray());
            var result = QemuTools.Run("qemu-img", "check", copy);
            Assert.True(result.ExitCode is 0 or 3, $"kill after write {point} of {log.Count}: qemu-img check exited {result.ExitCode}\n{result.Stdout}{result.Stderr}");
            if (result.ExitCode == 3)
            {
                leaking++;
                await AssertOurCheckAgreesAndRepairsAsync(copy, result.Stdout);
            }
            System.IO.File.Delete(copy);
        }
        // The final state (after close) has nothing leaked.
        Assert.Equal(0, QemuTools.Run("qemu-img", "check", path).ExitCode);
        Console.WriteLine($"crash test cs={clusterSize}: {log.Count} writes, {points.Count} kill points, {leaking} leaking");
        if (refcountBits == 64)
        {
            // 512-byte clusters with 64-bit refcounts: a table cluster covers 2 MiB, so the table must have moved.
            var header = new byte[64];
            await using (var stream = System.IO.File.OpenRead(path))
                stream.ReadExactly(header);
            Assert.NotEqual(512, System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(header.AsSpan(48)));
        }
    }

    private static async Task AssertOurCheckAgreesAndRepairsAsync(string copy, string qemuOutput)
    {
        await using (var image = await Qcow2Image.OpenAsync(copy, withBacking: false))
        {
            var ours = await image.Node.CheckAsync(Qcow2RepairMode.None);
            Assert.True(ours.ExitCode == 3, $"ours: {string.Join('\n', ours.Messages)}\nqemu: {qemuOutput}");
            var repaired = await image.Node.CheckAsync(Qcow2RepairMode.All);
            Assert.Equal(0, repaired.ExitCode);
        }
        var after = QemuTools.Run("qemu-img", "check", copy);
        Assert.True(after.ExitCode == 0, after.Stdout + after.Stderr);
    }

    [Fact]
    public async Task Qemu_img_check_repair_all_cleans_a_leaking_crash_copy()
    {
        using var dir = new TempDirectory();
        var path = dir.File("leak.qcow2");
        await Qcow2CreateTests.CreateAsync(path, new Qcow2CreateOptions { Size = 1 << 20 });
        var file = FileNode.Open(path, readOnly: false, locking: false);
        var recorder = new RecordingNode(file);
        var node = await Qcow2Node.OpenAsync(recorder, readOnly: false, Qcow2OpenOptions.Default, CancellationToken.None);
        await node.WriteAsync(0, new byte[4096]);
        await node.CloseAsync();
        await file.CloseAsync();
        // Replay everything but the last write (the L2 entry): the data cluster's refcount is already raised.
        using var initial = new MemoryStream();
        var log = recorder.Log;
        await Qcow2CreateTests.CreateAsync(dir.File("fresh.qcow2"), new Qcow2CreateOptions { Size = 1 << 20 });
        initial.Write(await System.IO.File.ReadAllBytesAsync(dir.File("fresh.qcow2")));
        for (var i = 0; i < log.Count - 1; i++)
            RecordingNode.Apply(initial, log[i]);
        await System.IO.File.WriteAllBytesAsync(dir.File("copy.qcow2"), initial.ToArray());
        Assert.Equal(3, QemuTools.Run("qemu-img", "check", dir.File("copy.qcow2")).ExitCode);
        QemuTools.Img("check", "-q", "-r", "all", dir.File("copy.qcow2"));
        Assert.Equal(0, QemuTools.Run("qemu-img", "check", dir.File("copy.qcow2")).ExitCode);
    }
}
