using Qmp.Block.Backends;
using Qmp.Block.Jobs;
using Qmp.Block.Options;
using Qmp.Block.Tests.Core;

namespace Qmp.Block.Tests.Jobs;

/// <summary>blockdev-mirror on real images: READY, pivot, cancel before and after READY, write-blocking, guest writes racing the copy.</summary>
public sealed class MirrorJobTests : IAsyncLifetime
{
    private const int Mib = 1 << 20;
    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();
    private string _src = "", _tgt = "";
    private BlockNode _source = null!;
    private BlockNode _target = null!;
    private BlockBackend _backend = null!;

    public async Task InitializeAsync()
    {
        // 8 MiB raw: 0x11 in the first 3 MiB, a hole, 0x22 at 6M..7M; the target a fresh qcow2.
        _src = _dir.PathOf("src.raw");
        _tgt = _dir.PathOf("tgt.qcow2");
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "create", "-q", "-f", "raw", _src, "8M");
        await MirrorTestImages.ToolAsync(QemuTools.QemuIo, "-f", "raw", "-c", "write -P 0x11 0 3M", "-c", "write -P 0x22 6M 1M", _src);
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", _tgt, "8M");
        _source = await _graph.AddAsync(new RawBlockdevOptions { NodeName = "src", File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = _src }) });
        _target = await _graph.AddAsync(new Qcow2BlockdevOptions { NodeName = "tgt", File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = _tgt }) });
        _backend = _graph.ResolveDrive("src")!;
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Full_mirror_goes_ready_then_complete_pivots_the_device_to_the_target()
    {
        var log = new JobEventLog(_graph.Jobs);
        var job = await MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "tgt" });
        await log.WaitForAsync("BLOCK_JOB_READY");
        Assert.Equal(8 * Mib, job.CurrentProgress);
        Assert.Equal(8 * Mib, job.TotalProgress);
        Assert.Equal(65536, job.Granularity);

        // A write after READY is mirrored too.
        var data = TempDirectory.Pattern(4096, 7);
        await _backend.WriteAsync(5 * Mib + 512, data);
        job.Complete();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["created", "running", "ready", "BLOCK_JOB_READY", "waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"], log.Take());
        Assert.Same(_target, _backend.Root);
        Assert.False(_source.HasWriteNotifiers);
        var read = new byte[4096];
        await _backend.ReadAsync(5 * Mib + 512, read);
        Assert.Equal(data, read);
        await CloseAndCompareAsync();
    }

    [Fact]
    public async Task Job_complete_before_ready_is_refused_with_the_verb_error()
    {
        var job = await MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "tgt", Job = new JobOptions { Speed = 1 } });
        var e = Assert.Throws<JobException>(job.Complete);
        Assert.Equal("Job 'm0' in state 'running' cannot accept command verb 'complete'", e.Message);
        await job.CancelAsync();
    }

    [Fact]
    public async Task Cancel_before_ready_emits_cancelled_and_keeps_the_source()
    {
        var log = new JobEventLog(_graph.Jobs);
        var job = await MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "tgt", Job = new JobOptions { Speed = 1 } });
        while (job.CurrentProgress == 0)
            await Task.Delay(1);

        // Without force, too: before READY every cancel is a real one.
        await job.CancelAsync(force: false);
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["created", "running", "aborting", "BLOCK_JOB_CANCELLED", "concluded", "null"], log.Take());
        Assert.Same(_source, _backend.Root);
        Assert.False(_source.HasWriteNotifiers);
        await _graph.DeleteAsync("tgt");
    }

    [Fact]
    public async Task Cancel_after_ready_completes_without_pivot_and_leaves_a_point_in_time_copy()
    {
        var log = new JobEventLog(_graph.Jobs);
        var job = await MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "tgt" });
        await log.WaitForAsync("BLOCK_JOB_READY");
        await _backend.WriteAsync(512, TempDirectory.Pattern(8192, 9));

        await job.CancelAsync(force: false);
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["created", "running", "ready", "BLOCK_JOB_READY", "waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"], log.Take());
        Assert.Null(job.Error);
        Assert.Same(_source, _backend.Root);
        await CloseAndCompareAsync();
    }

    [Fact]
    public async Task Force_cancel_after_ready_emits_cancelled()
    {
        var log = new JobEventLog(_graph.Jobs);
        var job = await MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "tgt" });
        await log.WaitForAsync("BLOCK_JOB_READY");

        await job.CancelAsync(force: true);
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["created", "running", "ready", "BLOCK_JOB_READY", "aborting", "BLOCK_JOB_CANCELLED", "concluded", "null"], log.Take());
        Assert.Same(_source, _backend.Root);
    }

    [Fact]
    public async Task Without_auto_finalize_the_source_stays_drained_until_finalize_then_pivots()
    {
        var log = new JobEventLog(_graph.Jobs);
        var job = await MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "tgt", Job = new JobOptions { AutoFinalize = false, AutoDismiss = false } });
        await log.WaitForAsync("BLOCK_JOB_READY");
        job.Complete();
        await log.WaitForAsync("BLOCK_JOB_PENDING");

        // A guest write now waits: it could not reach the target any more.
        var data = TempDirectory.Pattern(4096, 3);
        var write = _backend.WriteAsync(0, data).AsTask();
        await Task.Delay(100);
        Assert.False(write.IsCompleted);
        Assert.Same(_source, _backend.Root);
        Assert.Equal(await ReadAllAsync(_source), await ReadAllAsync(_target));

        await job.FinalizeAsync();
        await write.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Same(_target, _backend.Root);
        job.Dismiss();
        Assert.Equal(["created", "running", "ready", "BLOCK_JOB_READY", "waiting", "pending", "BLOCK_JOB_PENDING", "BLOCK_JOB_COMPLETED", "concluded", "null"], log.Take());
        // The held write went to the target only.
        var first = new byte[4096];
        await _target.ReadAsync(0, first);
        Assert.Equal(data, first);
        await _source.ReadAsync(0, first);
        Assert.All(first, b => Assert.Equal(0x11, b));
        await _graph.DisposeAsync();
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "check", _tgt);
    }

    [Fact]
    public async Task Guest_writes_racing_the_copy_all_reach_the_target_before_the_pivot()
    {
        var log = new JobEventLog(_graph.Jobs);
        MirrorJob job;
        await using (var load = new GuestLoad(_backend, workers: 4, span: 8 * Mib))
        {
            await load.WaitForProgressAsync(0, 50);
            // Small granularity and buffer: many runs, many races with the writers.
            job = await MirrorJob.StartAsync(_graph, new MirrorJobOptions
            {
                JobId = "m0", Device = "src", Target = "tgt", Granularity = 4096, BufSize = 65536,
                Job = new JobOptions { AutoFinalize = false },
            });
            // Four writers against a 64 KiB buffer: on a loaded CI machine the first empty bitmap took over 20 s once.
            await log.WaitForAsync("BLOCK_JOB_READY", TimeSpan.FromSeconds(120));
            await load.WaitForProgressAsync(load.Completed, 200);
            // A drained section pauses the job and holds the guest; nothing of the job is in flight then.
            using (await DrainedSection.BeginAsync(_source))
                Assert.Equal(0, job.InFlightForTests);
            await load.WaitForProgressAsync(load.Completed, 200);
            job.Complete();
            await log.WaitForAsync("BLOCK_JOB_PENDING");

            // Pending, the source is held drained: both nodes are quiet and must be equal now.
            Assert.Equal(await ReadAllAsync(_source), await ReadAllAsync(_target));
            await job.FinalizeAsync();
            await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
            await load.WaitForProgressAsync(load.Completed, 50);
            load.ThrowIfFaulted();
        }
        Assert.Null(job.Error);
        Assert.Same(_target, _backend.Root);
        await _graph.DisposeAsync();
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "check", _tgt);
    }

    [Fact]
    public async Task Write_blocking_guest_writes_are_on_the_target_when_they_complete()
    {
        var log = new JobEventLog(_graph.Jobs);
        var job = await MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "tgt", CopyMode = MirrorCopyMode.WriteBlocking });
        await log.WaitForAsync("BLOCK_JOB_READY");

        var data = TempDirectory.Pattern(3 * 4096, 5);
        await _backend.WriteAsync(4 * Mib + 1024, data);
        await _backend.WriteZeroesAsync(Mib, 65536);

        Assert.Equal(0, job.DirtyBytes);
        var onTarget = new byte[data.Length];
        await _target.ReadAsync(4 * Mib + 1024, onTarget);
        Assert.Equal(data, onTarget);
        var zeroes = new byte[65536];
        await _target.ReadAsync(Mib, zeroes);
        Assert.DoesNotContain(zeroes, b => b != 0);
        await job.CancelAsync(force: false);
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        await CloseAndCompareAsync();
    }

    [Fact]
    public async Task Throttled_mirror_pauses_and_resumes_into_standby_and_ready()
    {
        var log = new JobEventLog(_graph.Jobs);
        var job = await MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "tgt", Job = new JobOptions { Speed = 1 } });
        while (job.Busy || job.CurrentProgress == 0)
            await Task.Delay(1);
        await job.PauseAsync();
        Assert.Equal(JobStatus.Paused, job.Status);
        job.Resume();
        job.SetSpeed(0);
        await log.WaitForAsync("BLOCK_JOB_READY");
        await job.PauseAsync();
        Assert.Equal(JobStatus.Standby, job.Status);
        job.Resume();
        Assert.Equal(JobStatus.Ready, job.Status);
        await job.CancelAsync(force: true);
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["created", "running", "paused", "running", "ready", "BLOCK_JOB_READY", "standby", "ready", "aborting", "BLOCK_JOB_CANCELLED", "concluded", "null"], log.Take());
    }

    [Fact]
    public async Task A_mirrored_source_refuses_resize_and_blockdev_del_until_the_job_ends()
    {
        var job = await MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "tgt", Job = new JobOptions { Speed = 1 } });
        var resize = await Assert.ThrowsAsync<BlockException>(async () => await _source.TruncateAsync(16 * Mib));
        Assert.Equal("Node 'src' is busy: block device is in use by block job: mirror", resize.Message);
        var del = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.DeleteAsync("src"));
        Assert.Equal("Node 'src' is busy: block device is in use by block job: mirror", del.Message);
        Assert.Equal("Node tgt is in use", (await Assert.ThrowsAsync<BlockGraphException>(() => _graph.DeleteAsync("tgt"))).Message);
        var again = await Assert.ThrowsAsync<BlockGraphException>(() => MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m1", Device = "src", Target = "tgt" }));
        Assert.Equal("Need a root block node", again.Message);
        await job.CancelAsync();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        await _graph.DeleteAsync("tgt");
    }

    // Closes the graph (flushing both images), then the target must equal the source and be clean.
    private async Task CloseAndCompareAsync()
    {
        await _graph.DisposeAsync();
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "compare", "-f", "raw", "-F", "qcow2", _src, _tgt);
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "check", _tgt);
    }

    private static async Task<byte[]> ReadAllAsync(BlockNode node)
    {
        var bytes = new byte[node.Length];
        await node.ReadAsync(0, bytes);
        return bytes;
    }
}
