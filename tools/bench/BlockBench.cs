using System.Globalization;

namespace Qmp.Bench;

/// <summary>
/// qmp-bench block [--size 256M] [--convert-size 1G] [--commit-size 1G] [--dir /var/tmp] [--repeats 3] [--depth 16] [--only iops|convert|commit|backup|mirror|stream]
/// The block layer against QEMU 7.2, in one run, medians of the repeats:
/// 4 KiB sequential and strided ("random": step 257 × 4 KiB, which visits every block of a power-of-two image
/// in scattered order) reads and writes at queue depth 16 through our qcow2 driver in-process, against
/// <c>qemu-img bench</c> with the same offsets on an identical image (both times exclude start-up); then
/// <c>convert -O qcow2</c> of an incompressible raw image and <c>compare</c> of the two, qimg against qemu-img
/// as whole processes, on tmpfs (/dev/shm, if it has room) and in the disk directory; then a backup job of that
/// raw image to a new qcow2 (<see cref="BackupBench"/>), a mirror of it to READY (<see cref="MirrorBench"/>) and a
/// stream of it, as the backing file, into an empty qcow2 overlay (<see cref="StreamBench"/>).
/// </summary>
internal static class BlockBench
{
    private const int BlockSize = 4096;
    private const long Stride = 257 * BlockSize;

    public static async Task<int> RunAsync(string[] args)
    {
        long size = 256L << 20;
        long convertSize = 1L << 30;
        long commitSize = 1L << 30;
        var dir = "/var/tmp";
        var repeats = 3;
        var depth = 16;
        string? only = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--size": size = ParseSize(args[++i]); break;
                case "--convert-size": convertSize = ParseSize(args[++i]); break;
                case "--commit-size": commitSize = ParseSize(args[++i]); break;
                case "--dir": dir = args[++i]; break;
                case "--repeats": repeats = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--depth": depth = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--only": only = args[++i]; break;
                default: Console.Error.WriteLine($"qmp-bench block: unknown option {args[i]}"); return 2;
            }
        }
        var qemuImg = BlockTools.QemuImg;
        if (qemuImg is null)
            Console.WriteLine("qemu-img not installed: QEMU column skipped (tools/setup.sh installs qemu-utils)");
        var qimg = await BlockTools.FindQimgAsync();
        var work = Directory.CreateDirectory(Path.Combine(dir, $"qmp-bench-block-{Guid.NewGuid():N}")).FullName;
        var rows = new List<BlockRow>();
        try
        {
            Console.WriteLine($"{Environment.ProcessorCount} cores, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}, {repeats} repeats, images in {work}");
            if (only is null or "iops")
                rows.AddRange(await RunIopsAsync(qemuImg, qimg, work, size, depth, repeats));
            var shm = "/dev/shm";
            var convert = only is null or "convert";
            if (convert && Directory.Exists(shm) && new DriveInfo(shm).AvailableFreeSpace > 4 * convertSize)
            {
                var shmWork = Directory.CreateDirectory(Path.Combine(shm, $"qmp-bench-block-{Guid.NewGuid():N}")).FullName;
                try
                {
                    rows.AddRange(await RunConvertAsync(qemuImg, qimg, shmWork, "tmpfs", convertSize, repeats));
                }
                finally
                {
                    Directory.Delete(shmWork, recursive: true);
                }
            }
            else if (convert)
            {
                Console.WriteLine("/dev/shm missing or too small: tmpfs rows skipped");
            }
            if (convert)
                rows.AddRange(await RunConvertAsync(qemuImg, qimg, work, "disk", convertSize, repeats));
            if (only is null or "commit")
                rows.Add(await BlockCommitBench.RunAsync(qemuImg, qimg, work, commitSize, repeats));
            if (only is null or "backup")
            {
                var backupSource = Path.Combine(work, "backup-src.raw");
                await FillRandomAsync(backupSource, convertSize);
                rows.Add(await BackupBench.RunAsync(qemuImg, qimg, work, backupSource, convertSize, repeats));
            }
            if (only is null or "mirror")
            {
                var mirrorSource = Path.Combine(work, "backup-src.raw");
                if (!File.Exists(mirrorSource))
                    await FillRandomAsync(mirrorSource, convertSize);
                rows.Add(await MirrorBench.RunAsync(qemuImg, qimg, work, mirrorSource, convertSize, repeats));
            }
            if (only is null or "stream")
            {
                var streamSource = Path.Combine(work, "backup-src.raw");
                if (!File.Exists(streamSource))
                    await FillRandomAsync(streamSource, convertSize);
                rows.Add(await StreamBench.RunAsync(qemuImg, qimg, work, streamSource, convertSize, repeats));
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
        Print(rows, qemuImg is not null);
        return 0;
    }

    private static async Task<List<BlockRow>> RunIopsAsync(string? qemuImg, string qimg, string work, long size, int depth, int repeats)
    {
        var count = (int)(size / BlockSize);
        var label = $"qd{depth}, {size >> 20} MiB qcow2";
        var seqWrite = new BlockRow($"seq write 4k, {label}", size, count);
        var seqRead = new BlockRow($"seq read 4k, {label}", size, count);
        var randWrite = new BlockRow($"random write 4k, {label}", size, count);
        var randRead = new BlockRow($"random read 4k, {label}", size, count);
        var creator = qemuImg ?? qimg;
        var sizeText = size.ToString(CultureInfo.InvariantCulture);
        for (var round = 0; round < repeats; round++)
        {
            var theirs = Path.Combine(work, "qemu.qcow2");
            var ours = Path.Combine(work, "ours.qcow2");
            foreach (var (row, write, step) in new[] { (seqWrite, true, (long)BlockSize), (randWrite, true, Stride) })
            {
                await BlockTools.RunCheckedAsync(creator, "create", "-q", "-f", "qcow2", ours, sizeText);
                row.Ours.Add(await BlockIops.RunAsync(ours, write, count, depth, BlockSize, step));
                if (qemuImg is not null)
                {
                    await BlockTools.RunCheckedAsync(qemuImg, "create", "-q", "-f", "qcow2", theirs, sizeText);
                    row.Qemu.Add(await BlockTools.QemuBenchAsync(qemuImg, theirs, write, count, depth, BlockSize, step));
                }
            }
            // Reads go to a fully written image (the last write pass filled every block).
            foreach (var (row, step) in new[] { (seqRead, (long)BlockSize), (randRead, Stride) })
            {
                row.Ours.Add(await BlockIops.RunAsync(ours, false, count, depth, BlockSize, step));
                if (qemuImg is not null)
                    row.Qemu.Add(await BlockTools.QemuBenchAsync(qemuImg, ours, false, count, depth, BlockSize, step));
            }
            Console.WriteLine($"  round {round + 1}: qcow2 I/O done");
        }
        return [seqWrite, seqRead, randWrite, randRead];
    }

    private static async Task<List<BlockRow>> RunConvertAsync(string? qemuImg, string qimg, string work, string where, long size, int repeats)
    {
        var source = Path.Combine(work, "src.raw");
        await FillRandomAsync(source, size);
        var theirs = Path.Combine(work, "qemu.qcow2");
        var ours = Path.Combine(work, "qimg.qcow2");
        var convert = new BlockRow($"convert raw->qcow2 {size >> 20} MiB, {where}", size, 0);
        var compare = new BlockRow($"compare raw/qcow2 {size >> 20} MiB, {where}", size, 0);
        for (var round = 0; round < repeats; round++)
        {
            File.Delete(ours);
            convert.Ours.Add(await BlockTools.RunCheckedAsync(qimg, "convert", "-O", "qcow2", source, ours));
            if (qemuImg is not null)
            {
                File.Delete(theirs);
                convert.Qemu.Add(await BlockTools.RunCheckedAsync(qemuImg, "convert", "-O", "qcow2", source, theirs));
            }
            var reference = qemuImg is not null ? theirs : ours;
            compare.Ours.Add(await BlockTools.RunCheckedAsync(qimg, "compare", source, reference));
            if (qemuImg is not null)
                compare.Qemu.Add(await BlockTools.RunCheckedAsync(qemuImg, "compare", source, reference));
            Console.WriteLine($"  round {round + 1}: convert/compare on {where} done");
        }
        if (qemuImg is not null)
        {
            // The result must be right, not just fast: QEMU checks and compares what qimg wrote.
            await BlockTools.RunCheckedAsync(qemuImg, "check", "-q", ours);
            await BlockTools.RunCheckedAsync(qemuImg, "compare", "-q", source, ours);
        }
        return [convert, compare];
    }

    private static async Task FillRandomAsync(string path, long size)
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

    private static void Print(List<BlockRow> rows, bool withQemu)
    {
        Console.WriteLine();
        Console.WriteLine($"{"test (medians)",-44} {"ours",24} {(withQemu ? "QEMU 7.2" : ""),24} {(withQemu ? "ours/QEMU" : ""),10}");
        foreach (var row in rows)
        {
            var ours = Stats.Median(row.Ours);
            var line = $"{row.Name,-44} {Describe(row, ours),24}";
            if (withQemu && row.Qemu.Count > 0)
            {
                var qemu = Stats.Median(row.Qemu);
                line += $" {Describe(row, qemu),24} {qemu / ours,10:F2}";
            }
            Console.WriteLine(line);
        }
        Console.WriteLine();
        Console.WriteLine("ours/QEMU > 1: we are faster. I/O rows: in-process qcow2 driver vs qemu-img bench (start-up excluded);");
        Console.WriteLine("convert/compare rows: qimg vs qemu-img wall time per process (start-up included).");
    }

    private static string Describe(BlockRow row, double seconds) =>
        row.Requests > 0
            ? $"{row.Bytes / seconds / 1e6,6:F0} MB/s {row.Requests / seconds / 1e3,6:F1}k IOPS"
            : $"{seconds,6:F2} s {row.Bytes / seconds / 1e6,6:F0} MB/s";

    private static long ParseSize(string text)
    {
        var suffix = char.ToUpperInvariant(text[^1]);
        var shift = suffix switch { 'K' => 10, 'M' => 20, 'G' => 30, _ => 0 };
        return long.Parse(shift == 0 ? text : text[..^1], CultureInfo.InvariantCulture) << shift;
    }
}
