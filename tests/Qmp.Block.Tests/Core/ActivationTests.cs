using Qmp.Block.Backends;
using Qmp.Block.Options;
using Qmp.TestSupport;

namespace Qmp.Block.Tests.Core;

/// <summary>
/// Graph-wide inactivation (migration hand-over) with a failure injected part way: nothing may look
/// active afterwards, writes are refused everywhere, and the whole graph can be activated again.
/// </summary>
public sealed class ActivationTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();
    private readonly Dictionary<string, string> _images = [];
    private FaultyFilterNode _faulty = null!;
    private BlockBackend _drive = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_failed_inactivation_leaves_nothing_active_and_the_graph_can_be_fully_reactivated(bool faultyChainFirst)
    {
        await BuildAsync(faultyChainFirst);
        _faulty.FailInactivations = 1;

        var e = await Assert.ThrowsAsync<BlockException>(() => _graph.InactivateAllAsync());
        Assert.Equal(FaultyFilterNode.InjectedMessage, e.Message);
        Assert.False(_graph.AllActive);
        // Every node requests enter by refuses writes; children of the failed node may still be active (only it writes them).
        var roots = _graph.Nodes.Where(n => n.ParentLinks.Count == 0).ToList();
        Assert.All(roots, n => Assert.NotEqual(BlockActivation.Active, n.Activation));
        Assert.Equal(BlockActivation.Inactivating, _faulty.Activation);
        foreach (var node in roots)
            await FileNodeIoTests.AssertRefusedAsync(BlockError.Permission, () => node.WriteAsync(0, new byte[512]));
        await FileNodeIoTests.AssertRefusedAsync(BlockError.Permission, () => _drive.WriteAsync(0, new byte[512]));
        Assert.All(_graph.Nodes, n => Assert.Equal(0, n.QuiesceCounter));

        await _graph.ActivateAllAsync();
        Assert.True(_graph.AllActive);
        await AssertWritableAsync(0x11);
        await AssertLockedAsync();

        await _graph.InactivateAllAsync();
        Assert.All(_graph.Nodes, n => Assert.Equal(BlockActivation.Inactive, n.Activation));
        Assert.Equal(2, _faulty.InactivateCalls);
        await AssertUnlockedAsync();

        await _graph.ActivateAllAsync();
        Assert.True(_graph.AllActive);
        await AssertLockedAsync();
        await AssertWritableAsync(0x22);
    }

    [Fact]
    public async Task Inactive_nodes_serve_reads_but_refuse_writes()
    {
        await BuildAsync(faultyChainFirst: false);
        await AssertWritableAsync(0x33);
        await _graph.InactivateAllAsync();
        foreach (var node in _graph.Nodes)
        {
            Assert.False(node.Writable);
            var back = new byte[512];
            await node.ReadAsync(0, back);
            Assert.All(back, b => Assert.Equal(0x33, b));
            await FileNodeIoTests.AssertRefusedAsync(BlockError.Permission, () => node.WriteZeroesAsync(0, 512));
            await FileNodeIoTests.AssertRefusedAsync(BlockError.Permission, () => node.DiscardAsync(0, 512));
            await FileNodeIoTests.AssertRefusedAsync(BlockError.Permission, () => node.TruncateAsync(4096));
            await node.FlushAsync();
        }
        var fromGuest = new byte[512];
        await _drive.ReadAsync(0, fromGuest);
        Assert.All(fromGuest, b => Assert.Equal(0x33, b));
    }

    [Fact]
    public async Task Inactivating_an_inactive_graph_again_is_allowed()
    {
        await BuildAsync(faultyChainFirst: false);
        await _graph.InactivateAllAsync();
        await _graph.InactivateAllAsync();
        Assert.All(_graph.Nodes, n => Assert.Equal(BlockActivation.Inactive, n.Activation));
        Assert.Equal(1, _faulty.InactivateCalls);
    }

    [Fact]
    public async Task A_failed_activation_tries_every_node_and_can_be_retried()
    {
        await BuildAsync(faultyChainFirst: false);
        await _graph.InactivateAllAsync();
        var taken = _images["f2"];
        await using (await QemuIoHolder.OpenAsync(QemuTools.QemuIo, ["-f", "raw", taken]))
        {
            var e = await Assert.ThrowsAsync<BlockException>(() => _graph.ActivateAllAsync());
            Assert.Contains("lock", e.Message, StringComparison.Ordinal);
            Assert.False(_graph.AllActive);
            Assert.NotEqual(BlockActivation.Active, _graph.FindNode("f2")!.Activation);
            Assert.All(_graph.Nodes.Where(n => n.Filename != taken), n => Assert.Equal(BlockActivation.Active, n.Activation));
        }
        await _graph.ActivateAllAsync();
        Assert.True(_graph.AllActive);
        await AssertWritableAsync(0x44);
    }

    [Fact]
    public async Task Inactivation_drains_guest_io_and_later_guest_writes_are_refused()
    {
        await BuildAsync(faultyChainFirst: false);
        var port = new RecordingDevicePort();
        _drive.AttachDevice(port);
        await using (var load = new GuestLoad(_drive, 2, 1 << 16))
        {
            await load.WaitForProgressAsync(0);
            await _graph.InactivateAllAsync();
            Assert.Equal(0, _drive.InFlight);
            Assert.All(_graph.Nodes, n => Assert.Equal(0, n.InFlight));
            var fault = Assert.IsType<BlockException>(await load.WaitForFaultAsync());
            Assert.Equal(BlockError.Permission, fault.Error);
            await _graph.ActivateAllAsync();
        }
        Assert.Equal((1, 1), (port.Begins, port.Ends));
        await _drive.WriteAsync(0, new byte[512]);
    }

    [Fact]
    public async Task Graph_inactivation_flushes_the_nodes_below_the_roots()
    {
        var bottom = GraphInjection.Add(_graph, new GateNode(8192) { Holding = false }, "m0");
        var top = GraphInjection.Add(_graph, new FaultyFilterNode(bottom), "t0", bottom);
        await top.WriteAsync(0, new byte[512]);
        var flushes = bottom.Flushes;
        await _graph.InactivateAllAsync();
        Assert.Equal(BlockActivation.Inactive, bottom.Activation);
        Assert.True(bottom.Flushes > flushes, "the child was not flushed when it was inactivated");
    }

    // Four chains: r0 (raw over an inline file), x0 (a fault-injecting node over the file node f1), f2
    // (a file node alone) and the legacy drive drive0 (raw over an inline file, in a named backend).
    private async Task BuildAsync(bool faultyChainFirst)
    {
        foreach (var name in new[] { "r0", "f1", "f2", "drive0" })
            _images[name] = _dir.CreateSparse($"{name}.img", 1 << 16);
        if (faultyChainFirst)
            await AddFaultyChainAsync();
        await _graph.AddAsync(new RawBlockdevOptions { NodeName = "r0", File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = _images["r0"] }) });
        if (!faultyChainFirst)
            await AddFaultyChainAsync();
        await _graph.AddAsync(new FileBlockdevOptions { NodeName = "f2", Filename = _images["f2"] });
        _drive = await _graph.AddDriveAsync("drive0", new RawBlockdevOptions { File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = _images["drive0"] }) });
        Assert.Equal(7, _graph.Nodes.Count);
        Assert.True(_graph.AllActive);
    }

    private async Task AddFaultyChainAsync()
    {
        var file = await _graph.AddAsync(new FileBlockdevOptions { NodeName = "f1", Filename = _images["f1"] });
        _faulty = GraphInjection.Add(_graph, new FaultyFilterNode(file), "x0", file);
    }

    private async Task AssertWritableAsync(byte fill)
    {
        var data = Enumerable.Repeat(fill, 512).ToArray();
        foreach (var node in _graph.Nodes)
        {
            Assert.True(node.Writable, $"{node.NodeName} is not writable");
            await node.WriteAsync(0, data);
            var back = new byte[512];
            await node.ReadAsync(0, back);
            Assert.Equal(data, back);
        }
        await _drive.WriteAsync(0, data);
    }

    private async Task AssertUnlockedAsync()
    {
        foreach (var (name, path) in _images)
        {
            var (exitCode, output) = await QemuTools.RunAsync(QemuTools.QemuIo, "-f", "raw", "-c", "write 4096 512", path);
            Assert.True(exitCode == 0, $"{name}: qemu-io could not write the inactive image: {output}");
        }
    }

    private async Task AssertLockedAsync()
    {
        foreach (var (name, path) in _images)
        {
            var (exitCode, output) = await QemuTools.RunAsync(QemuTools.QemuIo, "-f", "raw", "-c", "read 0 512", path);
            Assert.True(exitCode != 0, $"{name}: qemu-io opened the active image read-write: {output}");
            Assert.Contains("Failed to get \"write\" lock", output, StringComparison.Ordinal);
        }
    }
}
