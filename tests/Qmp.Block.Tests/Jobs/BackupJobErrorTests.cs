using Qmp.Block.Jobs;
using Qmp.Block.Tests.Core;

namespace Qmp.Block.Tests.Jobs;

/// <summary>on-source-error / on-target-error with injected faulty nodes, and a failing copy-before-write.</summary>
public sealed class BackupJobErrorTests : IAsyncLifetime
{
    private const int Mib = BackupFixture.Mib;
    private readonly BackupFixture _f = new();
    private string _src = "", _tgt = "";
    private WriteErrorNode _target = null!;

    public async Task InitializeAsync()
    {
        _src = await _f.PatternRawAsync("src.raw");
        _tgt = await _f.EmptyQcow2Async("tgt.qcow2");
        await _f.AddRawAsync("src", _src);
        var qcow2 = await _f.AddQcow2Async("tgtq", _tgt);
        _target = GraphInjection.Add(_f.Graph, new WriteErrorNode(qcow2), "tgt", qcow2);
    }

    public async Task DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    public async Task Target_error_with_report_fails_the_job_with_the_error()
    {
        var log = new JobEventLog(_f.Graph.Jobs);
        _target.FailWrites = true;
        var job = await _f.BackupAsync(new BackupJobOptions { JobId = "b0", Device = "src", Target = "tgt", Sync = BackupSyncMode.Full });
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["created", "running", "paused", "running", "BLOCK_JOB_ERROR(write,report)", "aborting", "BLOCK_JOB_COMPLETED(Input/output error)", "concluded", "null"], log.Take());
        Assert.False(_f.Graph.FindNode("src")!.HasWriteNotifiers);
    }

    [Fact]
    public async Task Target_error_with_stop_pauses_the_job_until_resumed_then_the_copy_is_complete()
    {
        var log = new JobEventLog(_f.Graph.Jobs);
        _target.FailWrites = true;
        var job = await _f.BackupAsync(new BackupJobOptions { JobId = "b0", Device = "src", Target = "tgt", Sync = BackupSyncMode.Full, OnTargetError = JobOnError.Stop });
        await log.WaitForAsync("paused");
        while (job.Status != JobStatus.Paused || log.Events.Count(e => e == "paused") < 2)
            await Task.Delay(2);
        Assert.True(job.IoFailed);
        Assert.True(job.UserPaused);

        _target.FailWrites = false;
        job.Resume();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Null(job.Error);
        Assert.Equal(["created", "running", "paused", "running", "BLOCK_JOB_ERROR(write,stop)", "paused", "running", "waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"], log.Take());
        await _f.Graph.DeleteAsync("src");
        Assert.Equal(0, await BackupFixture.CompareAsync(_src, "raw", _tgt, "qcow2"));
    }

    [Fact]
    public async Task Target_error_with_ignore_goes_on_and_reports_the_error_at_the_end()
    {
        var log = new JobEventLog(_f.Graph.Jobs);
        _target.FailWrites = true;
        var job = await _f.BackupAsync(new BackupJobOptions { JobId = "b0", Device = "src", Target = "tgt", Sync = BackupSyncMode.Full, OnTargetError = JobOnError.Ignore });
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        var events = log.Take();
        Assert.Contains("BLOCK_JOB_ERROR(write,ignore)", events);
        Assert.Equal(["aborting", "BLOCK_JOB_COMPLETED(Input/output error)", "concluded", "null"], events.TakeLast(4));
    }

    [Fact]
    public async Task Source_read_error_with_report_fails_the_job_as_a_read_error()
    {
        var raw = _f.Graph.FindNode("src")!;
        var faulty = GraphInjection.Add(_f.Graph, new ReadErrorNode(raw), "faulty", raw);
        faulty.FailReads = true;
        var log = new JobEventLog(_f.Graph.Jobs);
        var job = await _f.BackupAsync(new BackupJobOptions { JobId = "b0", Device = "faulty", Target = "tgt", Sync = BackupSyncMode.Full, OnTargetError = JobOnError.Stop });
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["created", "running", "paused", "running", "BLOCK_JOB_ERROR(read,report)", "aborting", "BLOCK_JOB_COMPLETED(Input/output error)", "concluded", "null"], log.Take());
    }

    [Fact]
    public async Task Failed_copy_before_write_fails_the_guest_write_and_keeps_the_old_data()
    {
        var source = _f.Graph.FindNode("src")!;
        var job = await _f.BackupAsync(new BackupJobOptions { JobId = "b0", Device = "src", Target = "tgt", Sync = BackupSyncMode.None });
        _target.FailWrites = true;

        var data = new byte[512];
        Array.Fill(data, (byte)0xee);
        // QEMU's on-cbw-error=break-guest-write: the write fails rather than break the point-in-time copy.
        await Assert.ThrowsAsync<BlockException>(() => source.WriteAsync(2 * Mib, data).AsTask());
        var now = new byte[512];
        await source.ReadAsync(2 * Mib, now);
        Assert.All(now, b => Assert.Equal(0x12, b));

        _target.FailWrites = false;
        await source.WriteAsync(2 * Mib, data);
        await job.CancelAsync();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        await _f.Graph.DeleteAsync("src");
        var (_, output) = await QemuTools.RunAsync(QemuTools.QemuIo, "-r", "-U", "-f", "qcow2", "-c", "read -P 0x12 2M 64k", _tgt);
        Assert.DoesNotContain("Pattern verification failed", output, StringComparison.Ordinal);
    }
}
