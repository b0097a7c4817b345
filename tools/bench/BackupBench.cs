using System.Diagnostics;
using System.Text.Json.Nodes;
using Qmp.Block.Jobs;
using Qmp.Block.Transactions;

namespace Qmp.Bench;

/// <summary>
/// The backup row of <c>qmp-bench block</c>: blockdev-backup sync=full of a fully written raw image to a fresh
/// qcow2, from the command to BLOCK_JOB_COMPLETED: our job in-process against QEMU 7.2 (<c>-M none</c>, driven
/// over QMP), same images on the same disk, each round with a new target. Our result is checked with qemu-img.
/// </summary>
internal static class BackupBench
{
    public static async Task<BlockRow> RunAsync(string? qemuImg, string qimg, string work, string source, long size, int repeats)
    {
        var row = new BlockRow($"backup raw->qcow2 {size >> 20} MiB, disk", size, 0);
        var target = Path.Combine(work, "backup.qcow2");
        await BlockJobBench.RunRoundsAsync(row, qemuImg, qimg, source, target, size, repeats, "backup", checkEachRound: false, OursAsync, QemuAsync);
        if (qemuImg is not null)
        {
            File.Delete(target);
            await BlockTools.RunCheckedAsync(qemuImg, "create", "-q", "-f", "qcow2", target, size.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await OursAsync(source, target);
            await BlockTools.RunCheckedAsync(qemuImg, "check", "-q", target);
        }
        File.Delete(target);
        return row;
    }

    private static async Task<double> OursAsync(string source, string target)
    {
        await using var graph = await BlockJobBench.OpenGraphAsync(source, target);
        var started = Stopwatch.GetTimestamp();
        var action = new BackupAction { Options = new BackupJobOptions { JobId = "b0", Device = "src", Target = "tgt", Sync = BackupSyncMode.Full } };
        await BlockTransaction.RunAsync(graph, [action], grouped: false);
        await action.Job!.Completion;
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (action.Job.Error is { } error)
            throw new InvalidOperationException($"our backup failed: {error}");
        return seconds;
    }

    private static async Task<double> QemuAsync(string qemu, string source, string target)
    {
        await using var machine = await BlockJobBench.LaunchQemuAsync(qemu, source, target);
        var qmp = machine.Qmp;
        var started = Stopwatch.GetTimestamp();
        var completed = qmp.WaitEventAsync("BLOCK_JOB_COMPLETED");
        await qmp.ExecuteAsync("blockdev-backup", new JsonObject { ["job-id"] = "b0", ["device"] = "src", ["target"] = "tgt", ["sync"] = "full" });
        var done = await completed;
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (done.Data?["error"] is { } error)
            throw new InvalidOperationException($"QEMU's backup failed: {error}");
        await machine.ShutdownAsync();
        return seconds;
    }
}
