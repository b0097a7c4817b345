using Qmp.Block.Jobs;
using Qmp.Block.Tests.Core;
using Qmp.Block.Transactions;

namespace Qmp.Block.Tests.Jobs;

/// <summary>blockdev-backup and drive-backup with compress: QEMU 7.2's checks and a target qemu-img reads back.</summary>
public sealed class BackupCompressTests : IAsyncLifetime
{
    private const int Mib = BackupFixture.Mib;
    private readonly BackupFixture _f = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    public async Task Compressed_backup_to_qcow2_is_the_source_with_data_clusters_compressed_and_checks_clean()
    {
        var src = await SourceAsync();
        var tgt = await _f.EmptyQcow2Async("tgt.qcow2");
        await _f.AddRawAsync("src", src);
        await _f.AddQcow2Async("tgt", tgt);
        var log = new JobEventLog(_f.Graph.Jobs);

        var job = await _f.BackupAsync(new BackupJobOptions { JobId = "b0", Device = "src", Target = "tgt", Sync = BackupSyncMode.Full, Compress = true });
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(["created", "running", "paused", "running", "waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"], log.Take());
        await _f.Graph.DeleteAsync("tgt");
        Assert.Equal(0, await BackupFixture.CompareAsync(src, "raw", tgt, "qcow2"));
        var check = Qcow2.QemuTools.CheckJson(tgt, out var exit);
        Assert.True(exit == 0, check.ToString());
        // The pattern (4 MiB) and the zeroes written as data (1 MiB) are compressed; the noise cluster is stored as it is,
        // the hole becomes zero clusters.
        Assert.Equal(80, check.GetProperty("compressed-clusters").GetInt64());
        var map = Qcow2.QemuTools.Map(tgt);
        Assert.Contains(map, e => e.Start == 4 * Mib && e.Data && e.Offset is not null);
        Assert.Contains(map, e => e.Start <= 6 * Mib && e.Start + e.Length >= 8 * Mib && e.Zero && !e.Data);
    }

    [Fact]
    public async Task Guest_writes_during_a_compressed_backup_leave_the_source_as_of_the_start()
    {
        var src = await _f.PatternRawAsync("src.raw");
        var reference = _f.PathOf("reference.raw");
        System.IO.File.Copy(src, reference);
        var tgt = await _f.EmptyQcow2Async("tgt.qcow2");
        var source = await _f.AddRawAsync("src", src);
        await _f.AddQcow2Async("tgt", tgt);

        var job = await _f.BackupAsync(new BackupJobOptions { JobId = "b0", Device = "src", Target = "tgt", Sync = BackupSyncMode.Full, Compress = true, Job = new JobOptions { Speed = 4 * Mib } });
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            var random = new Random(1);
            var data = new byte[6000];
            var writes = 0;
            while (!stop.IsCancellationRequested)
            {
                random.NextBytes(data);
                await source.WriteAsync(random.NextInt64(0, (8 * Mib) - data.Length), data);
                writes++;
                await Task.Delay(1);
            }
            return writes;
        });
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        stop.Cancel();
        Assert.True(await writer > 10, "too few guest writes raced the backup");

        Assert.Null(job.Error);
        await _f.Graph.DeleteAsync("tgt");
        Assert.Equal(0, await BackupFixture.CompareAsync(reference, "raw", tgt, "qcow2"));
        var check = Qcow2.QemuTools.CheckJson(tgt, out var exit);
        Assert.True(exit == 0, check.ToString());
        Assert.Equal(128, check.GetProperty("compressed-clusters").GetInt64());
    }

    [Fact]
    public async Task Compression_to_a_raw_target_is_refused_with_QEMU_7_2_text_before_any_job_exists()
    {
        var src = await _f.PatternRawAsync("src.raw");
        await _f.AddRawAsync("src", src);
        var rawTarget = _f.PathOf("tgt.raw");
        await BackupFixture.Tool(QemuTools.QemuImg, "create", "-q", "-f", "raw", rawTarget, "8M");
        await _f.AddRawAsync("tgt", rawTarget);
        var log = new JobEventLog(_f.Graph.Jobs);

        var e = await Assert.ThrowsAnyAsync<Exception>(() => _f.BackupAsync(new BackupJobOptions { JobId = "b0", Device = "src", Target = "tgt", Sync = BackupSyncMode.Full, Compress = true }));
        Assert.Equal("Compression is not supported for this drive ", e.Message);
        // Checked after "same node" (QEMU's order).
        e = await Assert.ThrowsAnyAsync<Exception>(() => _f.BackupAsync(new BackupJobOptions { JobId = "b0", Device = "src", Target = "src", Sync = BackupSyncMode.Full, Compress = true }));
        Assert.Equal("Source and target cannot be the same", e.Message);

        // drive-backup to a new raw image: the same error.
        var path = _f.PathOf("new.raw");
        var options = new BackupJobOptions { JobId = "b1", Device = "src", Target = path, Sync = BackupSyncMode.Full, Compress = true };
        var drive = new BackupAction { Options = options, Drive = new DriveBackupOptions { Backup = options, Format = "raw" } };
        e = await Assert.ThrowsAnyAsync<Exception>(() => BlockTransaction.RunAsync(_f.Graph, [drive], grouped: false));
        Assert.Equal("Compression is not supported for this drive ", e.Message);

        Assert.Empty(log.Take());
        Assert.Empty(_f.Graph.Jobs.Jobs);
        Assert.False(_f.Graph.FindNode("src")!.HasWriteNotifiers);
    }

    [Fact]
    public async Task Drive_backup_with_compress_makes_a_compressed_qcow2_image()
    {
        var src = await SourceAsync();
        await _f.AddRawAsync("src", src);
        var path = _f.PathOf("new.qcow2");
        var options = new BackupJobOptions { JobId = "b0", Device = "src", Target = path, Sync = BackupSyncMode.Full, Compress = true };
        var drive = new BackupAction { Options = options, Drive = new DriveBackupOptions { Backup = options, Format = "qcow2" } };
        await BlockTransaction.RunAsync(_f.Graph, [drive], grouped: false);
        await drive.Job!.Completion.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Null(drive.Job.Error);
        Assert.Equal(0, await BackupFixture.CompareAsync(src, "raw", path, "qcow2"));
        var check = Qcow2.QemuTools.CheckJson(path, out var exit);
        Assert.True(exit == 0, check.ToString());
        Assert.Equal(80, check.GetProperty("compressed-clusters").GetInt64());
    }

    [Fact]
    public async Task Second_compressed_backup_into_a_filled_target_fails_with_EIO_as_in_QEMU()
    {
        var src = await SourceAsync();
        var tgt = await _f.EmptyQcow2Async("tgt.qcow2");
        await _f.AddRawAsync("src", src);
        await _f.AddQcow2Async("tgt", tgt);
        var first = await _f.BackupAsync(new BackupJobOptions { JobId = "b0", Device = "src", Target = "tgt", Sync = BackupSyncMode.Full, Compress = true });
        await first.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Null(first.Error);
        var log = new JobEventLog(_f.Graph.Jobs);

        var second = await _f.BackupAsync(new BackupJobOptions { JobId = "b1", Device = "src", Target = "tgt", Sync = BackupSyncMode.Full, Compress = true });
        await second.Completion.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(["created", "running", "paused", "running", "BLOCK_JOB_ERROR(write,report)", "aborting", "BLOCK_JOB_COMPLETED(Input/output error)", "concluded", "null"], log.Take());
        await _f.Graph.DeleteAsync("tgt");
        // The first copy is untouched.
        Assert.Equal(0, await BackupFixture.CompareAsync(src, "raw", tgt, "qcow2"));
        await BackupFixture.Tool(QemuTools.QemuImg, "check", tgt);
    }

    // 8 MiB raw: 4 MiB of pattern, one 64 KiB cluster of noise at 4 MiB, 1 MiB of zeroes written as data at 5 MiB, a hole from 6 MiB.
    private async Task<string> SourceAsync()
    {
        var path = _f.PathOf("src.raw");
        await BackupFixture.Tool(QemuTools.QemuImg, "create", "-q", "-f", "raw", path, "8M");
        await BackupFixture.Tool(QemuTools.QemuIo, "-f", "raw", "-c", "write -P 0x5a 0 4M", "-c", "write -P 0 5M 1M", path);
        var noise = new byte[65536];
        new Random(2).NextBytes(noise);
        await using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            stream.Position = 4 * Mib;
            await stream.WriteAsync(noise);
        }
        return path;
    }
}
