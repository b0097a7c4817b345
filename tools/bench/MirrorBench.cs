using System.Diagnostics;
using System.Text.Json.Nodes;
using Qmp.Block.Jobs;

namespace Qmp.Bench;

/// <summary>
/// The mirror row of <c>qmp-bench block</c>: blockdev-mirror sync=full of a fully written raw image to a fresh
/// qcow2, from the command to BLOCK_JOB_READY: our job in-process against QEMU 7.2 (<c>-M none</c>, driven over
/// QMP, the recipe of the block anchors), same images on the same disk, each round with a new target. Both
/// jobs are completed after the clock stops; our target is checked with qemu-img compare and check.
/// </summary>
internal static class MirrorBench
{
    public static async Task<BlockRow> RunAsync(string? qemuImg, string qimg, string work, string source, long size, int repeats)
    {
        var row = new BlockRow($"mirror raw->qcow2 {size >> 20} MiB to READY, disk", size, 0);
        var target = Path.Combine(work, "mirror.qcow2");
        await BlockJobBench.RunRoundsAsync(row, qemuImg, qimg, source, target, size, repeats, "mirror", checkEachRound: true, OursAsync, QemuAsync);
        File.Delete(target);
        return row;
    }

    private static async Task<double> OursAsync(string source, string target)
    {
        await using var graph = await BlockJobBench.OpenGraphAsync(source, target);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        graph.Jobs.Ready += _ => ready.TrySetResult();
        var started = Stopwatch.GetTimestamp();
        var job = await MirrorJob.StartAsync(graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "tgt" });
        await Task.WhenAny(ready.Task, job.Completion);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (!ready.Task.IsCompleted)
            throw new InvalidOperationException($"our mirror failed: {job.Error}");
        job.Complete();
        await job.Completion;
        if (job.Error is { } error)
            throw new InvalidOperationException($"our mirror failed: {error}");
        return seconds;
    }

    private static async Task<double> QemuAsync(string qemu, string source, string target)
    {
        await using var machine = await BlockJobBench.LaunchQemuAsync(qemu, source, target);
        var qmp = machine.Qmp;
        var started = Stopwatch.GetTimestamp();
        var ready = qmp.WaitEventAsync("BLOCK_JOB_READY");
        await qmp.ExecuteAsync("blockdev-mirror", new JsonObject { ["job-id"] = "m0", ["device"] = "src", ["target"] = "tgt", ["sync"] = "full" });
        await ready;
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var completed = qmp.WaitEventAsync("BLOCK_JOB_COMPLETED");
        await qmp.ExecuteAsync("job-complete", new JsonObject { ["id"] = "m0" });
        var done = await completed;
        if (done.Data?["error"] is { } error)
            throw new InvalidOperationException($"QEMU's mirror failed: {error}");
        await machine.ShutdownAsync();
        return seconds;
    }
}
