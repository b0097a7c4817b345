using System.Diagnostics;
using System.Text.Json.Nodes;
using Qmp.Block;
using Qmp.Block.Jobs;
using Qmp.Block.Options;
using Qmp.Client;

namespace Qmp.Bench;

/// <summary>
/// The stream row of <c>qmp-bench block</c>: block-stream of an empty qcow2 overlay over a fully written raw backing
/// image, from the command to BLOCK_JOB_COMPLETED: our job in-process against QEMU 7.2 (<c>-M none</c>, driven over
/// QMP), same images on the same disk, each round with a new overlay. Our result is compared with the source and
/// checked with qemu-img.
/// </summary>
internal static class StreamBench
{
    public static async Task<BlockRow> RunAsync(string? qemuImg, string qimg, string work, string source, long size, int repeats)
    {
        var row = new BlockRow($"stream raw->qcow2 {size >> 20} MiB overlay, disk", size, 0);
        var overlay = Path.Combine(work, "stream.qcow2");
        var qemu = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "qemu-system-x86_64")).FirstOrDefault(File.Exists);
        for (var round = 0; round < repeats; round++)
        {
            await CreateOverlayAsync(qemuImg ?? qimg, source, overlay);
            row.Ours.Add(await OursAsync(overlay));
            if (qemuImg is not null)
            {
                // Right, not just fast: the overlay alone (its backing link gone) holds the source.
                await BlockTools.RunCheckedAsync(qemuImg, "check", "-q", overlay);
                await BlockTools.RunCheckedAsync(qemuImg, "compare", "-q", "-f", "raw", "-F", "qcow2", source, overlay);
                var info = await BlockTools.RunAsync(qemuImg, ["info", overlay]);
                if (info.Output.Contains("backing file:", StringComparison.Ordinal))
                    throw new InvalidOperationException($"our stream left a backing file:\n{info.Output}");
            }
            if (qemu is not null && qemuImg is not null)
            {
                await CreateOverlayAsync(qemuImg, source, overlay);
                row.Qemu.Add(await QemuAsync(qemu, overlay));
            }
            Console.WriteLine($"  round {round + 1}: stream done");
        }
        File.Delete(overlay);
        return row;
    }

    private static async Task CreateOverlayAsync(string creator, string source, string overlay)
    {
        File.Delete(overlay);
        await BlockTools.RunCheckedAsync(creator, "create", "-q", "-f", "qcow2", "-b", source, "-F", "raw", overlay);
    }

    private static async Task<double> OursAsync(string overlay)
    {
        await using var graph = new BlockGraph();
        await graph.AddAsync(new Qcow2BlockdevOptions { NodeName = "top", File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = overlay }) });
        var started = Stopwatch.GetTimestamp();
        var job = await StreamJob.StartAsync(graph, new StreamJobOptions { JobId = "s0", Device = "top" });
        await job.Completion;
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (job.Error is { } error)
            throw new InvalidOperationException($"our stream failed: {error}");
        return seconds;
    }

    private static async Task<double> QemuAsync(string qemu, string overlay)
    {
        await using var machine = new QemuMachine(qemu, ["-M", "none", "-nodefaults", "-display", "none"]);
        await machine.LaunchAsync();
        var qmp = machine.Qmp;
        await qmp.ExecuteAsync("blockdev-add", new JsonObject
        {
            ["node-name"] = "top",
            ["driver"] = "qcow2",
            ["file"] = new JsonObject { ["driver"] = "file", ["filename"] = overlay },
        });
        var started = Stopwatch.GetTimestamp();
        var completed = qmp.WaitEventAsync("BLOCK_JOB_COMPLETED");
        await qmp.ExecuteAsync("block-stream", new JsonObject { ["job-id"] = "s0", ["device"] = "top" });
        var done = await completed;
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (done.Data?["error"] is { } error)
            throw new InvalidOperationException($"QEMU's stream failed: {error}");
        await machine.ShutdownAsync();
        return seconds;
    }
}
