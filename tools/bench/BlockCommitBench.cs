using System.Diagnostics;
using System.Text.Json.Nodes;
using Qmp.Client;

namespace Qmp.Bench;

/// <summary>
/// The "commit" row of <c>qmp-bench block</c>: block-commit of a fully written intermediate qcow2 image into an
/// empty qcow2 base under an idle overlay, qmpd against qemu-system-x86_64 (7.2) in the same run, timed from the
/// command to BLOCK_JOB_COMPLETED (process start-up excluded), on fresh copies of the same images each round.
/// </summary>
internal static class BlockCommitBench
{
    public static async Task<BlockRow> RunAsync(string? qemuImg, string qimg, string work, long size, int repeats)
    {
        var row = new BlockRow($"commit {size >> 20} MiB intermediate qcow2, disk", size, 0);
        var qemu = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "qemu-system-x86_64")).FirstOrDefault(File.Exists);
        var qmpd = await Repository.PublishQmpdAsync();
        var creator = qemuImg ?? qimg;
        var sizeText = size.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var source = Path.Combine(work, "commit-src.raw");
        await FillAsync(source, size);
        for (var round = 0; round < repeats; round++)
        {
            foreach (var (binary, samples) in new[] { (qmpd, row.Ours), (qemu, row.Qemu) })
            {
                if (binary is null || qemuImg is null && binary == qemu)
                    continue;
                var dir = Directory.CreateDirectory(Path.Combine(work, $"commit-{round}-{Path.GetFileName(binary)}")).FullName;
                var basePath = Path.Combine(dir, "base.qcow2");
                var mid = Path.Combine(dir, "mid.qcow2");
                var top = Path.Combine(dir, "top.qcow2");
                await BlockTools.RunCheckedAsync(creator, "create", "-q", "-f", "qcow2", basePath, sizeText);
                await BlockTools.RunCheckedAsync(creator, "convert", "-f", "raw", "-O", "qcow2", source, mid);
                await BlockTools.RunCheckedAsync(creator, "rebase", "-u", "-f", "qcow2", "-b", basePath, "-F", "qcow2", mid);
                await BlockTools.RunCheckedAsync(creator, "create", "-q", "-f", "qcow2", "-b", mid, "-F", "qcow2", top);
                samples.Add(await CommitAsync(binary, dir, top, mid));
                if (qemuImg is not null)
                {
                    // Right, not just fast: the base now holds the source.
                    await BlockTools.RunCheckedAsync(qemuImg, "check", "-q", basePath);
                    await BlockTools.RunCheckedAsync(qemuImg, "compare", "-q", "-f", "raw", "-F", "qcow2", source, basePath);
                }
                Directory.Delete(dir, recursive: true);
            }
            Console.WriteLine($"  round {round + 1}: commit done");
        }
        File.Delete(source);
        return row;
    }

    private static async Task<double> CommitAsync(string binary, string dir, string top, string mid)
    {
        var socket = Path.Combine(dir, "qmp.sock");
        await using var process = CapturedProcess.Start(binary, ["-M", "none", "-nodefaults", "-display", "none", "-qmp", $"unix:{socket},server=on,wait=off"], keepStdin: true);
        QmpClient? client = null;
        for (var attempt = 0; client is null; attempt++)
        {
            try
            {
                client = await QmpClient.ConnectUnixAsync(socket);
            }
            catch (System.Net.Sockets.SocketException) when (attempt < 400)
            {
                await Task.Delay(25);
            }
        }
        await using (client)
        {
            await client.NegotiateAsync();
            await client.ExecuteAsync("blockdev-add", new JsonObject
            {
                ["driver"] = "qcow2",
                ["node-name"] = "top",
                ["file"] = new JsonObject { ["driver"] = "file", ["filename"] = top },
            });
            var completed = client.WaitEventAsync("BLOCK_JOB_COMPLETED");
            var clock = Stopwatch.StartNew();
            await client.ExecuteAsync("block-commit", new JsonObject { ["device"] = "top", ["job-id"] = "c0", ["top"] = mid });
            var done = await completed.WaitAsync(TimeSpan.FromMinutes(10));
            var seconds = clock.Elapsed.TotalSeconds;
            if (done.Data?["error"] is { } error)
                throw new InvalidOperationException($"{binary}: commit failed: {error}");
            await client.ExecuteAsync("quit");
            return seconds;
        }
    }

    // Incompressible data everywhere, so every cluster of the intermediate image is allocated.
    private static async Task FillAsync(string path, long size)
    {
        await using var random = new FileStream("/dev/urandom", FileMode.Open, FileAccess.Read);
        await using var output = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        var buffer = new byte[1 << 20];
        for (var done = 0L; done < size; done += buffer.Length)
        {
            await random.ReadExactlyAsync(buffer);
            await output.WriteAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, size - done)));
        }
    }
}
