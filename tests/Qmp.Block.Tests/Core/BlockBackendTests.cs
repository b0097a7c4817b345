using Qmp.Block.Backends;

namespace Qmp.Block.Tests.Core;

public sealed class BlockBackendTests
{
    private readonly BlockBackend _backend = new("drive0");
    private readonly List<BlockIoErrorEventArgs> _events = [];

    public BlockBackendTests() => _backend.IoError += _events.Add;

    [Fact]
    public void The_default_policies_are_report_for_reads_and_enospc_for_writes()
    {
        Assert.Equal(BlockErrorPolicy.Report, _backend.ReadErrorPolicy);
        Assert.Equal(BlockErrorPolicy.Enospc, _backend.WriteErrorPolicy);
        Assert.Equal(BlockIoStatus.Ok, _backend.IoStatus);
    }

    [Theory]
    [InlineData(BlockErrorPolicy.Report, BlockError.Io, BlockErrorAction.Report, BlockIoStatus.Ok)]
    [InlineData(BlockErrorPolicy.Report, BlockError.NoSpace, BlockErrorAction.Report, BlockIoStatus.Ok)]
    [InlineData(BlockErrorPolicy.Ignore, BlockError.Io, BlockErrorAction.Ignore, BlockIoStatus.Ok)]
    [InlineData(BlockErrorPolicy.Ignore, BlockError.NoSpace, BlockErrorAction.Ignore, BlockIoStatus.Ok)]
    [InlineData(BlockErrorPolicy.Stop, BlockError.Io, BlockErrorAction.Stop, BlockIoStatus.Failed)]
    [InlineData(BlockErrorPolicy.Stop, BlockError.NoSpace, BlockErrorAction.Stop, BlockIoStatus.NoSpace)]
    [InlineData(BlockErrorPolicy.Stop, BlockError.Permission, BlockErrorAction.Stop, BlockIoStatus.Failed)]
    [InlineData(BlockErrorPolicy.Enospc, BlockError.Io, BlockErrorAction.Report, BlockIoStatus.Ok)]
    [InlineData(BlockErrorPolicy.Enospc, BlockError.Permission, BlockErrorAction.Report, BlockIoStatus.Ok)]
    [InlineData(BlockErrorPolicy.Enospc, BlockError.NoSpace, BlockErrorAction.Stop, BlockIoStatus.NoSpace)]
    public void A_failed_write_gets_the_werror_action(BlockErrorPolicy policy, BlockError error, BlockErrorAction action, BlockIoStatus status)
    {
        _backend.WriteErrorPolicy = policy;
        _backend.ReadErrorPolicy = policy == BlockErrorPolicy.Ignore ? BlockErrorPolicy.Stop : BlockErrorPolicy.Ignore;
        Assert.Equal(action, _backend.HandleError(isRead: false, new BlockException(error, "failed")));
        Assert.Equal(status, _backend.IoStatus);
        var raised = Assert.Single(_events);
        Assert.Equal(new BlockIoErrorEventArgs(_backend, false, action, error == BlockError.NoSpace, new BlockException(error, "x").Reason), raised);
    }

    [Theory]
    [InlineData(BlockErrorPolicy.Report, BlockError.Io, BlockErrorAction.Report, BlockIoStatus.Ok)]
    [InlineData(BlockErrorPolicy.Ignore, BlockError.Io, BlockErrorAction.Ignore, BlockIoStatus.Ok)]
    [InlineData(BlockErrorPolicy.Stop, BlockError.Io, BlockErrorAction.Stop, BlockIoStatus.Failed)]
    [InlineData(BlockErrorPolicy.Stop, BlockError.NoSpace, BlockErrorAction.Stop, BlockIoStatus.NoSpace)]
    [InlineData(BlockErrorPolicy.Enospc, BlockError.Io, BlockErrorAction.Report, BlockIoStatus.Ok)]
    [InlineData(BlockErrorPolicy.Enospc, BlockError.NoSpace, BlockErrorAction.Stop, BlockIoStatus.NoSpace)]
    public void A_failed_read_gets_the_rerror_action(BlockErrorPolicy policy, BlockError error, BlockErrorAction action, BlockIoStatus status)
    {
        _backend.ReadErrorPolicy = policy;
        _backend.WriteErrorPolicy = policy == BlockErrorPolicy.Ignore ? BlockErrorPolicy.Stop : BlockErrorPolicy.Ignore;
        Assert.Equal(action, _backend.HandleError(isRead: true, new BlockException(error, "failed")));
        Assert.Equal(status, _backend.IoStatus);
        var raised = Assert.Single(_events);
        Assert.True(raised.IsRead);
        Assert.Equal(action, raised.Action);
        Assert.Equal(error == BlockError.NoSpace, raised.NoSpace);
    }

    [Fact]
    public void The_event_carries_QEMUs_strerror_texts()
    {
        _backend.WriteErrorPolicy = BlockErrorPolicy.Report;
        _backend.HandleError(false, new BlockException(BlockError.NoSpace, "Could not write 'x': disk full"));
        _backend.HandleError(false, new BlockException(BlockError.Io, "Could not write 'x': EIO"));
        Assert.Equal(["No space left on device", "Input/output error"], _events.Select(e => e.Reason));
        Assert.All(_events, e => Assert.Same(_backend, e.Backend));
    }

    [Fact]
    public void The_first_stop_decides_the_io_status_until_it_is_reset()
    {
        _backend.WriteErrorPolicy = BlockErrorPolicy.Stop;
        _backend.HandleError(false, new BlockException(BlockError.NoSpace, "full"));
        _backend.HandleError(false, new BlockException(BlockError.Io, "eio"));
        Assert.Equal(BlockIoStatus.NoSpace, _backend.IoStatus);
        _backend.ResetIoStatus();
        Assert.Equal(BlockIoStatus.Ok, _backend.IoStatus);
        _backend.HandleError(false, new BlockException(BlockError.Io, "eio"));
        Assert.Equal(BlockIoStatus.Failed, _backend.IoStatus);
        Assert.Equal(3, _events.Count);
    }

    [Fact]
    public void Report_and_ignore_leave_the_io_status_alone()
    {
        _backend.WriteErrorPolicy = BlockErrorPolicy.Stop;
        _backend.HandleError(false, new BlockException(BlockError.Io, "eio"));
        _backend.ReadErrorPolicy = BlockErrorPolicy.Ignore;
        _backend.HandleError(true, new BlockException(BlockError.NoSpace, "full"));
        Assert.Equal(BlockIoStatus.Failed, _backend.IoStatus);
    }

    [Fact]
    public async Task A_read_only_backend_refuses_writes_and_still_reads()
    {
        var node = new GateNode(8192) { Holding = false };
        _backend.Insert(node);
        _backend.ReadOnly = true;
        await FileNodeIoTests.AssertRefusedAsync(BlockError.Permission, () => _backend.WriteAsync(0, new byte[512]));
        await FileNodeIoTests.AssertRefusedAsync(BlockError.Permission, () => _backend.WriteZeroesAsync(0, 512));
        await FileNodeIoTests.AssertRefusedAsync(BlockError.Permission, () => _backend.DiscardAsync(0, 512));
        Assert.Equal(0, node.Entries);
        await _backend.ReadAsync(0, new byte[512]);
        await _backend.FlushAsync();
        Assert.Equal(1, node.Entries);
        Assert.Equal(0, _backend.InFlight);
        Assert.Equal(2, _backend.Stats.FailedWriteOperations);
        Assert.Equal(1, _backend.Stats.FailedUnmapOperations);
        Assert.Equal(1, _backend.Stats.ReadOperations);
    }

    [Fact]
    public async Task A_backend_without_medium_fails_requests_and_counts_none_in_flight()
    {
        var e = await Assert.ThrowsAsync<BlockException>(async () => await _backend.ReadAsync(0, new byte[512]));
        Assert.Contains("drive0", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, _backend.InFlight);
        Assert.False(_backend.DrainedPoll());
    }

    [Fact]
    public async Task Requests_are_accounted()
    {
        var node = new GateNode(1 << 16) { Holding = false };
        _backend.Insert(node);
        await _backend.WriteAsync(4096, new byte[1024]);
        await _backend.WriteAsync(0, new byte[512]);
        await _backend.ReadAsync(0, new byte[2048]);
        await _backend.FlushAsync();
        await _backend.WriteZeroesAsync(8192, 4096);
        var stats = _backend.Stats;
        Assert.Equal((3, 1024 + 512 + 4096), (stats.WriteOperations, stats.WriteBytes));
        Assert.Equal((1, 2048), (stats.ReadOperations, stats.ReadBytes));
        Assert.Equal(1, stats.FlushOperations);
        Assert.Equal(8192 + 4096, stats.WriteHighestOffset);
        Assert.NotNull(stats.IdleTimeNs);
    }

    [Fact]
    public void A_backend_serves_one_device()
    {
        _backend.AttachDevice(new RecordingDevicePort());
        Assert.Throws<InvalidOperationException>(() => _backend.AttachDevice(new RecordingDevicePort()));
        _backend.DetachDevice();
        _backend.AttachDevice(new RecordingDevicePort());
    }
}
