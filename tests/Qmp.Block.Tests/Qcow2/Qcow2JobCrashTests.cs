using Qmp.Block.File;
using Qmp.Block.Qcow2;

namespace Qmp.Block.Tests.Qcow2;

/// <summary>
/// A job's writes (many big allocating writes in flight at once, as mirror and backup issue them) killed at any
/// point leave an image qemu-img check finds clean or merely leaking, never corrupt.
/// </summary>
public sealed class Qcow2JobCrashTests
{
    [Theory]
    [InlineData(65536, false)]
    [InlineData(65536, true)]
    [InlineData(4096, false)]
    public async Task Image_is_consistent_or_only_leaks_after_a_kill_during_parallel_job_writes(int clusterSize, bool unaligned)
    {
        using var dir = new TempDirectory();
        var size = 16L << 20;
        var path = dir.File("job.qcow2");
        await Qcow2CreateTests.CreateAsync(path, new Qcow2CreateOptions { Size = size, ClusterSize = clusterSize });
        var initial = await System.IO.File.ReadAllBytesAsync(path);

        var file = FileNode.Open(path, readOnly: false, locking: false);
        var recorder = new RecordingNode(file);
        var node = await Qcow2Node.OpenAsync(recorder, readOnly: false, Qcow2OpenOptions.Default, CancellationToken.None);
        // Eight workers take 1 MiB chunks in turn, as a job's copies in flight do; unaligned chunks share clusters with their neighbours.
        var chunk = 1 << 20;
        var shift = unaligned ? 4096 + 512 : 0;
        long next = -1;
        var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var data = new byte[chunk];
            new Random(w).NextBytes(data);
            while (true)
            {
                var index = Interlocked.Increment(ref next);
                var offset = (index * chunk) + shift;
                if (offset >= size)
                    return;
                await node.WriteAsync(offset, data.AsMemory(0, (int)Math.Min(chunk, size - offset)));
            }
        })).ToArray();
        await Task.WhenAll(workers);
        await node.CloseAsync();
        await recorder.CloseAsync();
        await file.CloseAsync();

        var log = recorder.Log;
        var random = new Random(clusterSize + shift);
        var points = Enumerable.Range(0, 16).Select(_ => random.Next(log.Count + 1)).Append(log.Count).Distinct().Order().ToList();
        using var state = new MemoryStream();
        state.Write(initial);
        var applied = 0;
        foreach (var point in points)
        {
            for (; applied < point; applied++)
                RecordingNode.Apply(state, log[applied]);
            var copy = dir.File($"copy-{point}.qcow2");
            await System.IO.File.WriteAllBytesAsync(copy, state.ToArray());
            var result = QemuTools.Run("qemu-img", "check", copy);
            Assert.True(result.ExitCode is 0 or 3, $"kill after write {point} of {log.Count}: qemu-img check exited {result.ExitCode}\n{result.Stdout}{result.Stderr}");
            System.IO.File.Delete(copy);
        }
        Assert.Equal(0, QemuTools.Run("qemu-img", "check", path).ExitCode);
    }
}
