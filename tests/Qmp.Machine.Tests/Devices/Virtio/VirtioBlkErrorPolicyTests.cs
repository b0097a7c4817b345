using Qmp.Block;
using Qmp.Block.Backends;
using Qmp.Machine.Devices.Virtio;
using static Qmp.Machine.Tests.Devices.Virtio.VirtioBlkTestRig;

namespace Qmp.Machine.Tests.Devices.Virtio;

public sealed class VirtioBlkErrorPolicyTests
{
    private static readonly byte[] _data = [.. Enumerable.Range(0, 1024).Select(i => (byte)(0x40 + (i % 64)))];

    [Fact]
    public async Task Werror_stop_keeps_the_request_stops_the_machine_and_retries_on_resume()
    {
        await using var rig = await CreateAsync(d => d.WriteErrorPolicy = BlockErrorPolicy.Stop);
        rig.Start();
        var events = new List<BlockIoErrorEventArgs>();
        var backend = rig.Blk.DriveBackend!;
        backend.IoError += events.Add;
        // An inactive node refuses writes, as it does during migration.
        await rig.Node.InactivateAsync();
        rig.Write(0, 0, sector: 6, _data);
        await rig.PumpUntilAsync(() => rig.Blk.KeptRequests == 1);

        Assert.Equal(0, rig.Queues[0].UsedIndex);
        Assert.Equal(0xFF, rig.Status(0, 0));
        Assert.Contains("stop io-error", rig.Control.Calls);
        Assert.Equal(BlockIoStatus.Failed, backend.IoStatus);
        var error = Assert.Single(events);
        Assert.Equal((false, BlockErrorAction.Stop), (error.IsRead, error.Action));
        Assert.Equal(1, rig.Blk.Queues[0].InFlight);

        await rig.Node.ActivateAsync();
        backend.ResetIoStatus();
        rig.Control.Resume();
        await rig.WaitUsedAsync(0, 1);
        Assert.Equal(StatusOk, rig.Status(0, 0));
        Assert.Equal(0, rig.Blk.KeptRequests);
        Assert.Equal(_data, rig.ImageBytes(6 * 512, _data.Length));
        Assert.Single(events);
    }

    [Fact]
    public async Task Every_kept_request_is_retried_on_resume()
    {
        await using var rig = await CreateAsync(d => d.WriteErrorPolicy = BlockErrorPolicy.Stop);
        rig.Start();
        var backend = rig.Blk.DriveBackend!;
        backend.ReadOnly = true;
        rig.Write(0, 0, sector: 10, [.. Enumerable.Repeat((byte)1, 512)]);
        rig.Write(0, 1, sector: 11, [.. Enumerable.Repeat((byte)2, 512)]);
        await rig.PumpUntilAsync(() => rig.Blk.KeptRequests == 2);
        Assert.Equal(0, rig.Queues[0].UsedIndex);
        backend.ReadOnly = false;
        rig.Control.Resume();
        await rig.WaitUsedAsync(0, 2);
        Assert.Equal(Enumerable.Repeat((byte)1, 512).Concat(Enumerable.Repeat((byte)2, 512)), rig.ImageBytes(10 * 512, 1024));
        Assert.Equal([0u, 3u], new[] { rig.Queues[0].UsedElement(0).Id, rig.Queues[0].UsedElement(1).Id }.Order());
    }

    [Fact]
    public async Task Resume_without_kept_requests_does_nothing()
    {
        await using var rig = await CreateAsync();
        rig.Start();
        rig.Control.Resume();
        rig.RunPosted();
        Assert.Equal(0, rig.Queues[0].UsedIndex);
    }

    [Fact]
    public async Task Werror_report_completes_the_write_with_ioerr()
    {
        await using var rig = await CreateAsync(d => d.WriteErrorPolicy = BlockErrorPolicy.Report);
        rig.Start();
        rig.Blk.DriveBackend!.ReadOnly = true;
        rig.Write(0, 0, sector: 6, _data);
        await rig.WaitUsedAsync(0, 1);
        Assert.Equal(StatusIoError, rig.Status(0, 0));
        Assert.Equal((0u, 1u), rig.Queues[0].UsedElement(0));
        Assert.Empty(rig.Control.Calls);
        Assert.Equal(Expected(6 * 512, 1024), rig.ImageBytes(6 * 512, 1024));
    }

    [Fact]
    public async Task Default_werror_enospc_stops_on_a_full_disk_and_reports_other_errors()
    {
        await using var rig = await CreateAsync();
        rig.Start();
        var error = BlockError.NoSpace;
        rig.Blk.IoCompletionHook = (operation, _) => operation == VirtioBlkOperation.Write
            ? ValueTask.FromException(new BlockException(error, "injected"))
            : ValueTask.CompletedTask;
        rig.Write(0, 0, sector: 1, _data);
        await rig.PumpUntilAsync(() => rig.Blk.KeptRequests == 1);
        Assert.Equal(BlockIoStatus.NoSpace, rig.Blk.DriveBackend!.IoStatus);

        error = BlockError.Io;
        rig.Write(0, 1, sector: 1, _data);
        await rig.WaitUsedAsync(0, 1);
        Assert.Equal(StatusIoError, rig.Status(0, 1));
        Assert.Equal(1, rig.Blk.KeptRequests);
    }

    [Fact]
    public async Task Rerror_ignore_completes_a_failed_read_as_success()
    {
        await using var rig = await CreateAsync(d => d.ReadErrorPolicy = BlockErrorPolicy.Ignore);
        rig.Start();
        var events = new List<BlockIoErrorEventArgs>();
        rig.Blk.DriveBackend!.IoError += events.Add;
        rig.Blk.IoCompletionHook = (operation, _) => operation == VirtioBlkOperation.Read
            ? ValueTask.FromException(new BlockException(BlockError.Io, "injected"))
            : ValueTask.CompletedTask;
        rig.Read(0, 0, sector: 2, length: 512);
        await rig.WaitUsedAsync(0, 1);
        Assert.Equal(StatusOk, rig.Status(0, 0));
        Assert.Equal((true, BlockErrorAction.Ignore), (events[0].IsRead, events[0].Action));
        Assert.Equal("Input/output error", events[0].Reason);
    }

    [Fact]
    public async Task Default_rerror_reports_a_failed_read()
    {
        await using var rig = await CreateAsync();
        rig.Start();
        rig.Blk.IoCompletionHook = (_, _) => ValueTask.FromException(new BlockException(BlockError.Io, "injected"));
        rig.Read(0, 0, sector: 2, length: 512);
        rig.Submit(0, 1, TypeFlush, 0);
        await rig.WaitUsedAsync(0, 2);
        Assert.Equal((StatusIoError, StatusIoError), (rig.Status(0, 0), rig.Status(0, 1)));
    }

    [Fact]
    public async Task Reset_drops_kept_requests()
    {
        await using var rig = await CreateAsync(d => d.WriteErrorPolicy = BlockErrorPolicy.Stop);
        rig.Start();
        rig.Blk.DriveBackend!.ReadOnly = true;
        rig.Write(0, 0, sector: 6, _data);
        await rig.PumpUntilAsync(() => rig.Blk.KeptRequests == 1);
        rig.Driver.Status = 0;
        Assert.Equal(0, rig.Blk.KeptRequests);
        rig.Blk.DriveBackend!.ReadOnly = false;
        rig.Control.Resume();
        rig.RunPosted();
        Assert.Equal(Expected(6 * 512, 1024), rig.ImageBytes(6 * 512, 1024));
    }

    [Fact]
    public async Task Completion_after_a_reset_leaves_guest_memory_and_rings_alone()
    {
        await using var rig = await CreateAsync();
        rig.Start();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        rig.Blk.IoCompletionHook = (_, _) => new ValueTask(release.Task);
        rig.Read(0, 0, sector: 2, length: 512);
        await rig.PumpUntilAsync(() => rig.Blk.InFlightRequests == 1);
        rig.Driver.Status = 0;
        release.SetResult();
        await rig.PumpUntilAsync(() => rig.Blk.InFlightRequests == 0);
        rig.RunPosted();
        Assert.Equal(new byte[512], rig.InData(0, 0, 512));
        Assert.Equal(0xFF, rig.Status(0, 0));
        Assert.Equal(0, rig.Queues[0].UsedIndex);
    }
}
