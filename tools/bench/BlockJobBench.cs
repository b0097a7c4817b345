using System.Globalization;
using System.Text.Json.Nodes;
using Qmp.Block;
using Qmp.Block.Options;
using Qmp.Client;

namespace Qmp.Bench;

/// <summary>
/// What the block-job rows of <c>qmp-bench block</c> (<see cref="BackupBench"/>, <see cref="MirrorBench"/>) share:
/// a job from a raw source node "src" to a fresh qcow2 target node "tgt", ours in-process and QEMU's over QMP,
/// each round with a new target checked with qemu-img.
/// </summary>
internal static class BlockJobBench
{
    /// <summary>
    /// Runs <paramref name="repeats"/> rounds into <paramref name="row"/>: a new qcow2 <paramref name="target"/> of
    /// <paramref name="size"/> bytes for <paramref name="ours"/> (compared with the source, and checked too if
    /// <paramref name="checkEachRound"/>), then, when QEMU and qemu-img are installed, a new one for <paramref name="qemuJob"/>.
    /// </summary>
    public static async Task RunRoundsAsync(BlockRow row, string? qemuImg, string qimg, string source, string target, long size, int repeats,
        string job, bool checkEachRound, Func<string, string, Task<double>> ours, Func<string, string, string, Task<double>> qemuJob)
    {
        var qemu = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "qemu-system-x86_64")).FirstOrDefault(File.Exists);
        var sizeText = size.ToString(CultureInfo.InvariantCulture);
        for (var round = 0; round < repeats; round++)
        {
            File.Delete(target);
            await BlockTools.RunCheckedAsync(qemuImg ?? qimg, "create", "-q", "-f", "qcow2", target, sizeText);
            row.Ours.Add(await ours(source, target));
            if (qemuImg is not null)
            {
                await BlockTools.RunCheckedAsync(qemuImg, "compare", "-q", source, target);
                if (checkEachRound)
                    await BlockTools.RunCheckedAsync(qemuImg, "check", "-q", target);
            }
            if (qemu is not null && qemuImg is not null)
            {
                File.Delete(target);
                await BlockTools.RunCheckedAsync(qemuImg, "create", "-q", "-f", "qcow2", target, sizeText);
                row.Qemu.Add(await qemuJob(qemu, source, target));
            }
            Console.WriteLine($"  round {round + 1}: {job} done");
        }
    }

    /// <summary>Our graph with <paramref name="source"/> as raw node "src" and <paramref name="target"/> as qcow2 node "tgt".</summary>
    public static async Task<BlockGraph> OpenGraphAsync(string source, string target)
    {
        var graph = new BlockGraph();
        try
        {
            await graph.AddAsync(new RawBlockdevOptions { NodeName = "src", File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = source }) });
            await graph.AddAsync(new Qcow2BlockdevOptions { NodeName = "tgt", File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = target }) });
            return graph;
        }
        catch
        {
            await graph.DisposeAsync();
            throw;
        }
    }

    /// <summary>QEMU (<c>-M none</c>) launched with <paramref name="source"/> as raw node "src" and <paramref name="target"/> as qcow2 node "tgt".</summary>
    public static async Task<QemuMachine> LaunchQemuAsync(string qemu, string source, string target)
    {
        var machine = new QemuMachine(qemu, ["-M", "none", "-nodefaults", "-display", "none"]);
        try
        {
            await machine.LaunchAsync();
            await machine.Qmp.ExecuteAsync("blockdev-add", Node("src", "raw", source));
            await machine.Qmp.ExecuteAsync("blockdev-add", Node("tgt", "qcow2", target));
            return machine;
        }
        catch
        {
            await machine.DisposeAsync();
            throw;
        }
    }

    private static JsonObject Node(string name, string driver, string path) => new()
    {
        ["node-name"] = name,
        ["driver"] = driver,
        ["file"] = new JsonObject { ["driver"] = "file", ["filename"] = path },
    };
}
