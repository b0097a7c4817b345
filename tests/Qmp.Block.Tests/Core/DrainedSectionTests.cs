using Qmp.Block.Backends;
using Qmp.Block.Raw;

namespace Qmp.Block.Tests.Core;

/// <summary>Drained sections over in-memory nodes whose requests stay in flight until the test releases them.</summary>
public sealed class DrainedSectionTests
{
    [Fact]
    public async Task Begin_does_not_complete_while_a_request_is_in_flight()
    {
        var node = new GateNode(8192);
        var read = node.ReadAsync(0, new byte[512]).AsTask();
        await node.FirstEntered;
        Assert.Equal(1, node.InFlight);

        var begin = DrainedSection.BeginAsync(node);
        await AssertStaysPendingAsync(begin);
        Assert.Equal(1, node.QuiesceCounter);
        Assert.False(read.IsCompleted);

        node.Release();
        using (var section = await begin)
        {
            // The drain waits for the request itself (InFlight 0); the caller's task completes just after.
            Assert.Equal(0, node.InFlight);
            await read.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(1, node.QuiesceCounter);
        }
        Assert.Equal(0, node.QuiesceCounter);
    }

    [Fact]
    public async Task Begin_on_a_parent_waits_for_requests_issued_directly_to_its_child()
    {
        var child = new GateNode(8192);
        var parent = Chain(child);
        var write = child.WriteAsync(0, new byte[512]).AsTask();
        await child.FirstEntered;

        var begin = DrainedSection.BeginAsync(parent);
        await AssertStaysPendingAsync(begin);
        child.Release();
        using var section = await begin;
        Assert.Equal(0, child.InFlight);
        Assert.Equal(0, parent.InFlight);
        await write.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Begin_on_a_child_waits_for_requests_its_parent_issued()
    {
        var child = new GateNode(8192);
        var parent = Chain(child);
        var read = parent.ReadAsync(0, new byte[4096]).AsTask();
        await child.FirstEntered;
        Assert.Equal(1, parent.InFlight);

        var begin = DrainedSection.BeginAsync(child);
        await AssertStaysPendingAsync(begin);
        Assert.Equal(1, parent.QuiesceCounter);
        child.Release();
        using var section = await begin;
        Assert.Equal((0, 0), (parent.InFlight, child.InFlight));
        await read.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Begin_waits_for_backend_requests_and_holds_new_ones_until_the_end()
    {
        var node = new GateNode(8192);
        var (backend, port) = Attach(Chain(node));
        var first = backend.ReadAsync(0, new byte[512]).AsTask();
        await node.FirstEntered;

        var begin = DrainedSection.BeginAsync(node);
        await AssertStaysPendingAsync(begin);
        node.Release();
        var section = await begin;
        Assert.Equal(0, backend.InFlight);
        await first.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(backend.Quiesced);
        Assert.Equal((1, 0), (port.Begins, port.Ends));

        var entries = node.Entries;
        var held = backend.WriteAsync(0, new byte[512]).AsTask();
        await AssertStaysPendingAsync(held);
        Assert.Equal(entries, node.Entries);
        Assert.Equal(0, node.InFlight);

        section.Dispose();
        await held;
        Assert.Equal(entries + 1, node.Entries);
        Assert.False(backend.Quiesced);
        Assert.Equal((1, 1), (port.Begins, port.Ends));
    }

    [Fact]
    public async Task Nested_sections_hold_requests_until_the_last_one_ends()
    {
        var node = new GateNode(8192) { Holding = false };
        var parent = Chain(node);
        var (backend, port) = Attach(parent);

        var outer = await DrainedSection.BeginAsync(parent);
        var inner = await DrainedSection.BeginAsync(node);
        Assert.Equal(2, parent.QuiesceCounter);
        var held = backend.ReadAsync(0, new byte[512]).AsTask();

        outer.Dispose();
        Assert.Equal(1, parent.QuiesceCounter);
        Assert.True(backend.Quiesced);
        await AssertStaysPendingAsync(held);
        Assert.Equal(0, node.Entries);

        inner.Dispose();
        await held;
        Assert.Equal(1, node.Entries);
        Assert.Equal(0, parent.QuiesceCounter);
        Assert.Equal(0, node.QuiesceCounter);
        // The device sees one begin and one end, however deep the nesting.
        Assert.Equal((1, 1, 1, 0), (port.Begins, port.Ends, port.MaxDepth, port.UnpairedEnds));
    }

    [Fact]
    public async Task Begin_waits_while_the_device_reports_requests_of_its_own()
    {
        var node = new GateNode(8192) { Holding = false };
        var (_, port) = Attach(node);
        port.Busy = true;
        var begin = DrainedSection.BeginAsync(node);
        await AssertStaysPendingAsync(begin);
        Assert.True(port.Polls > 0);
        Assert.Equal(1, port.Begins);

        port.Busy = false;
        using var section = await begin;
        Assert.Equal(0, port.Ends);
    }

    [Fact]
    public async Task A_cancelled_begin_undoes_the_section()
    {
        var node = new GateNode(8192);
        var (backend, port) = Attach(node);
        var read = node.ReadAsync(0, new byte[512]).AsTask();
        await node.FirstEntered;

        using var cancel = new CancellationTokenSource();
        var begin = DrainedSection.BeginAsync(node, cancel.Token);
        await AssertStaysPendingAsync(begin);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => begin);
        Assert.Equal(0, node.QuiesceCounter);
        Assert.False(backend.Quiesced);
        Assert.Equal((1, 1), (port.Begins, port.Ends));

        node.Release();
        await read;
        await backend.ReadAsync(0, new byte[512]);
    }

    [Fact]
    public async Task Ending_a_section_twice_ends_it_once()
    {
        var node = new GateNode(8192) { Holding = false };
        var (backend, port) = Attach(node);
        var outer = await DrainedSection.BeginAsync(node);
        var inner = await DrainedSection.BeginAsync(node);
        inner.Dispose();
        inner.Dispose();
        Assert.Equal(1, node.QuiesceCounter);
        Assert.True(backend.Quiesced);
        outer.Dispose();
        Assert.Equal(0, node.QuiesceCounter);
        Assert.Equal((1, 1, 0), (port.Begins, port.Ends, port.UnpairedEnds));
    }

    [Fact]
    public async Task A_section_over_several_roots_waits_for_all_of_them()
    {
        var first = new GateNode(8192, "a");
        var second = new GateNode(8192, "b");
        var readA = first.ReadAsync(0, new byte[1]).AsTask();
        var readB = second.ReadAsync(0, new byte[1]).AsTask();
        await Task.WhenAll(first.FirstEntered, second.FirstEntered);

        var begin = DrainedSection.BeginAsync([first, second]);
        first.Release();
        await readA;
        await AssertStaysPendingAsync(begin);
        second.Release();
        using var section = await begin;
        Assert.Equal((0, 0), (first.InFlight, second.InFlight));
        await readB.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((1, 1), (first.QuiesceCounter, second.QuiesceCounter));
    }

    // The parent is a raw node over the child, as the graph links them.
    private static RawNode Chain(BlockNode child)
    {
        var parent = RawNode.Open(child, readOnly: false);
        parent.NodeName = "raw";
        parent.AddChild("file", child);
        return parent;
    }

    private static (BlockBackend Backend, RecordingDevicePort Port) Attach(BlockNode root)
    {
        var backend = new BlockBackend("drive0");
        backend.Insert(root);
        var port = new RecordingDevicePort();
        backend.AttachDevice(port);
        return (backend, port);
    }

    // Gives the task every chance to complete (it must not): the thread pool runs whatever is ready meanwhile.
    private static async Task AssertStaysPendingAsync(Task task)
    {
        for (var i = 0; i < 5; i++)
        {
            await Task.Yield();
            await Task.Delay(2);
        }
        Assert.False(task.IsCompleted, $"completed too early ({task.Status})");
    }
}
