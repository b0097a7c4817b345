using Qmp.Block.Jobs;
using Qmp.Block.Tests.Core;

namespace Qmp.Block.Tests.Jobs;

/// <summary>blockdev-backup on real images: the target checked with qemu-img compare and check.</summary>
public sealed class BackupJobTests : IAsyncLifetime
{
    private const int Mib = BackupFixture.Mib;
    private readonly BackupFixture _f = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    public async Task Full_backup_to_a_qcow2_target_equals_the_source_and_checks_clean()
    {
        var src = await _f.PatternRawAsync("src.raw");
        var tgt = await _f.EmptyQcow2Async("tgt.qcow2");
        await _f.AddRawAsync("src", src);
        await _f.AddQcow2Async("tgt", tgt);
        var log = new JobEventLog(_f.Graph.Jobs);

        var job = await _f.BackupAsync(new BackupJobOptions { JobId = "b0", Device = "src", Target = "tgt", Sync = BackupSyncMode.Full });
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        // QEMU 7.2: the job starts inside the transaction's drained section, hence the paused/running blip.
        Assert.Equal(["created", "running", "paused", "running", "waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"], log.Take());
        Assert.Equal(8 * Mib, job.TotalProgress);
        Assert.Equal(8 * Mib, job.CurrentProgress);
        Assert.False(job.Source.HasWriteNotifiers);
        await _f.Graph.DeleteAsync("tgt");
        Assert.Equal(0, await BackupFixture.CompareAsync(src, "raw", tgt, "qcow2"));
        await BackupFixture.Tool(QemuTools.QemuImg, "check", tgt);
    }

    [Fact]
    public async Task Backup_is_the_source_as_of_job_start_under_guest_writes()
    {
        var src = await _f.PatternRawAsync("src.raw");
        var reference = _f.PathOf("reference.raw");
        System.IO.File.Copy(src, reference);
        var tgt = await _f.EmptyQcow2Async("tgt.qcow2");
        var source = await _f.AddRawAsync("src", src);
        await _f.AddQcow2Async("tgt", tgt);

        // 4 MiB/s: the copy takes about two seconds, while writers overwrite the source everywhere.
        var job = await _f.BackupAsync(new BackupJobOptions { JobId = "b0", Device = "src", Target = "tgt", Sync = BackupSyncMode.Full, Job = new JobOptions { Speed = 4 * Mib } });
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            var data = new byte[6000];
            var writes = 0;
            while (!stop.IsCancellationRequested)
            {
                random.NextBytes(data);
                var offset = random.NextInt64(0, (8 * Mib) - data.Length);
                await source.WriteAsync(offset, data);
                writes++;
                await Task.Delay(1);
            }
            return writes;
        })).ToList();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        stop.Cancel();
        var total = (await Task.WhenAll(writers)).Sum();

        Assert.Null(job.Error);
        Assert.True(total > 100, $"only {total} guest writes raced the backup");
        await _f.Graph.DeleteAsync("tgt");
        Assert.Equal(0, await BackupFixture.CompareAsync(reference, "raw", tgt, "qcow2"));
        Assert.Equal(1, await BackupFixture.CompareAsync(src, "raw", tgt, "qcow2"));
        await BackupFixture.Tool(QemuTools.QemuImg, "check", tgt);
    }

    // A guest write waiting for a cluster the job is copying must not keep a drain from completing.
    [Fact]
    public async Task Drained_sections_during_a_backup_under_guest_writes_neither_hang_nor_break_the_copy()
    {
        var src = await _f.PatternRawAsync("src.raw");
        var reference = _f.PathOf("reference.raw");
        System.IO.File.Copy(src, reference);
        var tgt = await _f.EmptyQcow2Async("tgt.qcow2");
        var source = await _f.AddRawAsync("src", src);
        await _f.AddQcow2Async("tgt", tgt);

        var job = await _f.BackupAsync(new BackupJobOptions { JobId = "b0", Device = "src", Target = "tgt", Sync = BackupSyncMode.Full, Job = new JobOptions { Speed = 8 * Mib } });
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            var random = new Random(3);
            var data = new byte[70000];
            while (!stop.IsCancellationRequested)
            {
                random.NextBytes(data);
                await source.WriteAsync(random.NextInt64(0, (8 * Mib) - data.Length), data);
            }
        });
        var drains = 0;
        while (!job.Completion.IsCompleted)
        {
            using (await DrainedSection.BeginAsync(source).WaitAsync(TimeSpan.FromSeconds(10)))
                drains++;
            await Task.Delay(3);
        }
        stop.Cancel();
        await writer;
        await job.Completion;

        Assert.Null(job.Error);
        // How many fit in the job's run depends on the machine's load; one is enough to have crossed the copy.
        Assert.True(drains > 0, "no drained section ran during the backup");
        await _f.Graph.DeleteAsync("tgt");
        Assert.Equal(0, await BackupFixture.CompareAsync(reference, "raw", tgt, "qcow2"));
    }

    [Fact]
    public async Task Sync_top_copies_only_what_the_top_layer_allocates()
    {
        var basePath = await _f.PatternRawAsync("base.raw");
        var top = await _f.EmptyQcow2Async("top.qcow2", backing: basePath, backingFormat: "raw");
        await BackupFixture.Tool(QemuTools.QemuIo, "-f", "qcow2", "-c", "write -P 0xaa 1M 128k", "-c", "write -P 0xbb 5M 64k", top);
        var tgt = await _f.EmptyQcow2Async("tgt.qcow2", backing: basePath, backingFormat: "raw");
        await _f.AddQcow2Async("top", top);
        await _f.AddQcow2Async("tgt", tgt);

        var job = await _f.BackupAsync(new BackupJobOptions { JobId = "b0", Device = "top", Target = "tgt", Sync = BackupSyncMode.Top });
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Null(job.Error);
        Assert.Equal(192 * 1024, job.TotalProgress);
        await _f.Graph.DeleteAsync("tgt");
        await _f.Graph.DeleteAsync("top");
        Assert.Equal(0, await BackupFixture.CompareAsync(top, "qcow2", tgt, "qcow2"));
        var (_, map) = await QemuTools.RunAsync(QemuTools.QemuImg, "map", "--output=json", tgt);
        // Only the two written ranges are data of the target itself (depth 0); the rest shows its backing file.
        Assert.Equal(2, map.Split('\n').Count(l => l.Contains("\"depth\": 0", StringComparison.Ordinal) && l.Contains("\"data\": true", StringComparison.Ordinal)));
        await BackupFixture.Tool(QemuTools.QemuImg, "check", tgt);
    }

    [Fact]
    public async Task Sync_none_keeps_the_old_data_of_overwritten_clusters_for_a_fleecing_target()
    {
        var src = await _f.PatternRawAsync("src.raw");
        var reference = _f.PathOf("reference.raw");
        System.IO.File.Copy(src, reference);
        var fleece = await _f.EmptyQcow2Async("fleece.qcow2", backing: src, backingFormat: "raw");
        var source = await _f.AddRawAsync("src", src);
        var target = await _f.AddQcow2Async("fleece", fleece, backingNode: "src");
        var log = new JobEventLog(_f.Graph.Jobs);

        var job = await _f.BackupAsync(new BackupJobOptions { JobId = "b0", Device = "src", Target = "fleece", Sync = BackupSyncMode.None });
        var data = new byte[4096];
        Array.Fill(data, (byte)0xee);
        await source.WriteAsync(3 * Mib + 100, data);
        await source.WriteAsync(7 * Mib, data);

        // The fleecing node shows the disk as it was when the job started; the source has the new data.
        var expected = await System.IO.File.ReadAllBytesAsync(reference);
        var seen = new byte[8 * Mib];
        await target.ReadAsync(0, seen);
        Assert.True(expected.AsSpan().SequenceEqual(seen), "the fleecing view differs from the disk at the job's start");
        var now = new byte[4096];
        await source.ReadAsync(7 * Mib, now);
        Assert.Equal(data, now);
        Assert.Equal(2 * 65536, job.CurrentProgress);
        Assert.Equal(JobStatus.Running, job.Status);

        await job.CancelAsync();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["created", "running", "paused", "running", "aborting", "BLOCK_JOB_CANCELLED", "concluded", "null"], log.Take());
        Assert.False(source.HasWriteNotifiers);
    }

    [Fact]
    public async Task Cancel_stops_the_copy_and_lets_go_of_source_and_target()
    {
        var src = await _f.PatternRawAsync("src.raw");
        var tgt = await _f.EmptyQcow2Async("tgt.qcow2");
        var source = await _f.AddRawAsync("src", src);
        await _f.AddQcow2Async("tgt", tgt);
        var log = new JobEventLog(_f.Graph.Jobs);
        var job = await _f.BackupAsync(new BackupJobOptions { JobId = "b0", Device = "src", Target = "tgt", Sync = BackupSyncMode.Full, Job = new JobOptions { Speed = 1 } });

        var busy = await Assert.ThrowsAsync<BlockGraphException>(() => _f.Graph.DeleteAsync("tgt"));
        Assert.Equal("Node 'tgt' is busy: block device is in use by block job: backup", busy.Message);
        await job.CancelAsync();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["created", "running", "paused", "running", "aborting", "BLOCK_JOB_CANCELLED", "concluded", "null"], log.Take());
        Assert.True(job.CurrentProgress < 8 * Mib);
        Assert.False(source.HasWriteNotifiers);
        await _f.Graph.DeleteAsync("tgt");
        await _f.Graph.DeleteAsync("src");
        await BackupFixture.Tool(QemuTools.QemuImg, "check", tgt);
    }

    [Fact]
    public async Task Bad_arguments_get_QEMU_7_2_errors_and_leave_nothing_behind()
    {
        var src = await _f.PatternRawAsync("src.raw");
        await _f.AddRawAsync("src", src);
        await _f.AddQcow2Async("tgt", await _f.EmptyQcow2Async("tgt.qcow2"));
        await _f.AddQcow2Async("small", await _f.EmptyQcow2Async("small.qcow2", mib: 2));
        var log = new JobEventLog(_f.Graph.Jobs);

        async Task<string> Error(BackupJobOptions options) =>
            (await Assert.ThrowsAnyAsync<Exception>(() => _f.BackupAsync(options))).Message;

        Assert.Equal("Invalid job ID ''", await Error(new() { Device = "src", Target = "tgt" }));
        Assert.Equal("Cannot find device='nodev' nor node-name='nodev'", await Error(new() { JobId = "b0", Device = "nodev", Target = "tgt" }));
        Assert.Equal("Cannot find device='notgt' nor node-name='notgt'", await Error(new() { JobId = "b0", Device = "src", Target = "notgt" }));
        Assert.Equal("Source and target cannot be the same", await Error(new() { JobId = "b0", Device = "src", Target = "src" }));
        Assert.Equal("Source and target image have different sizes", await Error(new() { JobId = "b0", Device = "src", Target = "small" }));
        Assert.Equal("Invalid job ID '1b'", await Error(new() { JobId = "1b", Device = "src", Target = "tgt" }));
        Assert.Equal("must provide a valid bitmap name for 'bitmap' sync mode", await Error(new() { Device = "src", Target = "tgt", Sync = BackupSyncMode.Bitmap }));
        Assert.Empty(log.Take());
        // QEMU makes the job before it looks at the speed.
        Assert.Equal("Parameter 'speed' expects a non-negative value", await Error(new() { JobId = "b0", Device = "src", Target = "tgt", Job = new JobOptions { Speed = -1 } }));
        Assert.Equal(["created", "null"], log.Take());
        Assert.Empty(_f.Graph.Jobs.Jobs);
        Assert.False(_f.Graph.FindNode("src")!.HasWriteNotifiers);
        await _f.Graph.DeleteAsync("tgt");
    }
}
