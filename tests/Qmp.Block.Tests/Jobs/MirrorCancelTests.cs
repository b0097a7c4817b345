using Qmp.Block.Jobs;
using Qmp.Block.Options;
using Qmp.Block.Tests.Core;

namespace Qmp.Block.Tests.Jobs;

/// <summary>Cancelling a mirror at awkward moments: the instant it goes READY, and while a copy is in flight.</summary>
public sealed class MirrorCancelTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();

    public async Task InitializeAsync()
    {
        var src = _dir.PathOf("src.raw");
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "create", "-q", "-f", "raw", src, "256K");
        await MirrorTestImages.ToolAsync(QemuTools.QemuIo, "-f", "raw", "-c", "write -P 0x11 0 128K", src);
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", _dir.PathOf("tgt.qcow2"), "256K");
        await _graph.AddAsync(new RawBlockdevOptions { NodeName = "src", File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = src }) });
        await _graph.AddAsync(new Qcow2BlockdevOptions { NodeName = "tgt", File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = _dir.PathOf("tgt.qcow2") }) });
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_soft_cancel_racing_the_ready_transition_always_completes_the_job()
    {
        // The cancel lands anywhere between the READY event and the job's next sleep; a wake-up lost there left the job ready forever.
        _graph.Jobs.Ready += j => _ = Task.Run(() => j.CancelAsync(force: false));
        for (var round = 0; round < 200; round++)
        {
            var job = await MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = $"m{round}", Device = "src", Target = "tgt" });
            var finished = await Task.WhenAny(job.Completion, Task.Delay(TimeSpan.FromSeconds(20)));
            Assert.True(finished == job.Completion, $"round {round}: the soft-cancelled job is still {job.Status}");
            Assert.Null(job.Error);
        }
    }

    [Fact]
    public async Task A_copy_in_flight_at_cancel_finishes_and_counts_in_the_cancelled_event()
    {
        var gated = GraphInjection.Add(_graph, new GatedWriteNode(_graph.FindNode("tgt")!), "gated", _graph.FindNode("tgt")!);
        var log = new JobEventLog(_graph.Jobs);
        var cancelled = new TaskCompletionSource<(long Offset, long Length)>();
        _graph.Jobs.Cancelled += j => cancelled.TrySetResult((j.CurrentProgress, j.TotalProgress));
        var job = await MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "gated", BufSize = 64 << 10, Job = new JobOptions { Speed = 1 } });
        await gated.FirstWriteArrived.WaitAsync(TimeSpan.FromSeconds(20));

        // As QEMU: the cancelled job waits for its copy under way, which then shows in the offset.
        await job.CancelAsync(force: true);
        Assert.False(job.Completion.IsCompleted);
        gated.Open();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal((64L << 10, 256L << 10), await cancelled.Task);
        Assert.Equal(["created", "running", "aborting", "BLOCK_JOB_CANCELLED", "concluded", "null"], log.Take());
    }
}
