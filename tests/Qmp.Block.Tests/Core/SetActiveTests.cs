using Qmp.Block.Options;
using Qmp.TestSupport;

namespace Qmp.Block.Tests.Core;

/// <summary>
/// blockdev-set-active on the graph (QEMU 10.0's semantics): one node with the children only it uses, or
/// every node; refusals and failures leave the activation as it was.
/// </summary>
public sealed class SetActiveTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();
    private string _image = null!;

    public async Task InitializeAsync()
    {
        // disk0 (raw) over f0 (file), and a second chain d1 over f1 that nothing here touches.
        _image = _dir.CreateSparse("a.img", 1 << 16);
        var f0 = await _graph.AddAsync(new FileBlockdevOptions { NodeName = "f0", Filename = _image });
        await _graph.AddAsync(new RawBlockdevOptions { NodeName = "disk0", File = BlockdevRef.To(f0.NodeName) });
        await _graph.AddAsync(new RawBlockdevOptions
        {
            NodeName = "d1",
            File = BlockdevRef.Inline(new FileBlockdevOptions { NodeName = "f1", Filename = _dir.CreateSparse("b.img", 1 << 16) }),
        });
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Set_active_names_a_node_that_does_not_exist()
    {
        var e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.SetActiveAsync("nope", false));
        Assert.Equal("Failed to find node with node-name='nope'", e.Message);
        Assert.True(_graph.AllActive);
    }

    [Fact]
    public async Task Inactivating_a_node_under_an_active_parent_is_refused_and_changes_nothing()
    {
        var e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.SetActiveAsync("f0", false));
        Assert.Equal("Node has active parent node", e.Message);
        Assert.True(_graph.AllActive);
        await Node("disk0").WriteAsync(0, new byte[512]);
    }

    [Fact]
    public async Task Inactivating_a_format_node_takes_its_file_along_and_releases_the_image()
    {
        await _graph.SetActiveAsync("disk0", false);

        Assert.Equal(BlockActivation.Inactive, Node("disk0").Activation);
        Assert.Equal(BlockActivation.Inactive, Node("f0").Activation);
        Assert.Equal(BlockActivation.Active, Node("d1").Activation);
        Assert.Equal(BlockActivation.Active, Node("f1").Activation);
        Assert.False(_graph.AllActive);
        await FileNodeIoTests.AssertRefusedAsync(BlockError.Permission, () => Node("disk0").WriteAsync(0, new byte[512]));
        var (exitCode, output) = await QemuTools.RunAsync(QemuTools.QemuIo, "-f", "raw", "-c", "write -P 0x5a 0 512", _image);
        Assert.True(exitCode == 0, $"qemu-io could not write the inactive image: {output}");

        await _graph.SetActiveAsync("disk0", true);

        Assert.True(_graph.AllActive);
        var back = new byte[512];
        await Node("disk0").ReadAsync(0, back);
        Assert.All(back, b => Assert.Equal(0x5a, b));
        await Node("disk0").WriteAsync(0, new byte[512]);
        (exitCode, output) = await QemuTools.RunAsync(QemuTools.QemuIo, "-f", "raw", "-c", "read 0 512", _image);
        Assert.True(exitCode != 0, $"qemu-io opened the active image read-write: {output}");
    }

    [Fact]
    public async Task A_child_of_an_inactive_parent_may_be_inactivated_again_and_activated_alone()
    {
        await _graph.SetActiveAsync("disk0", false);
        await _graph.SetActiveAsync("f0", false);
        await _graph.SetActiveAsync("disk0", false);
        Assert.Equal(BlockActivation.Inactive, Node("f0").Activation);

        await _graph.SetActiveAsync("f0", true);

        Assert.Equal(BlockActivation.Active, Node("f0").Activation);
        Assert.Equal(BlockActivation.Inactive, Node("disk0").Activation);
        Assert.False(_graph.AllActive);
    }

    [Fact]
    public async Task Without_a_node_name_every_node_changes()
    {
        await _graph.SetActiveAsync(null, false);
        Assert.All(_graph.Nodes, n => Assert.Equal(BlockActivation.Inactive, n.Activation));
        Assert.False(_graph.AllActive);

        await _graph.SetActiveAsync(null, true);
        Assert.True(_graph.AllActive);
        await Node("d1").WriteAsync(0, new byte[512]);
    }

    [Fact]
    public async Task A_writing_job_on_the_file_refuses_inactivating_its_format_node_and_everything_stays_active()
    {
        var job = new RecordingUser();
        Node("f0").AddUser(job);
        try
        {
            var e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.SetActiveAsync("disk0", false));
            Assert.Equal("Failed to inactivate node: Operation not permitted", e.Message);
            e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.SetActiveAsync(null, false));
            Assert.Equal("Failed to inactivate all nodes: Operation not permitted", e.Message);
            Assert.True(_graph.AllActive);
            Assert.Equal(0, job.Begins);
        }
        finally
        {
            Node("f0").RemoveUser(job);
        }
    }

    [Fact]
    public async Task Migration_inactivation_is_refused_before_any_node_changes_while_a_job_writes()
    {
        var job = new RecordingUser();
        Node("f0").AddUser(job);
        try
        {
            var e = await Assert.ThrowsAsync<BlockException>(() => _graph.InactivateAllAsync());
            Assert.Equal(BlockError.Permission, e.Error);
            Assert.Equal("Node 'f0' cannot be inactivated: job0 writes to it", e.Message);
            Assert.All(_graph.Nodes, n => Assert.Equal(BlockActivation.Active, n.Activation));
            // Marked until the migration's failure path activates the graph again.
            Assert.False(_graph.AllActive);
            await _graph.ActivateAllAsync();
            Assert.True(_graph.AllActive);
        }
        finally
        {
            Node("f0").RemoveUser(job);
        }
        await _graph.InactivateAllAsync();
        Assert.All(_graph.Nodes, n => Assert.Equal(BlockActivation.Inactive, n.Activation));
    }

    [Fact]
    public async Task A_failed_inactivation_gives_the_node_its_activation_back()
    {
        var faulty = GraphInjection.Add(_graph, new FaultyFilterNode(Node("d1")), "x0", Node("d1"));
        faulty.FailInactivations = 1;

        var e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.SetActiveAsync("x0", false));

        Assert.Equal($"Failed to inactivate node: {FaultyFilterNode.InjectedMessage}", e.Message);
        Assert.True(_graph.AllActive);
        await faulty.WriteAsync(0, new byte[512]);
        Assert.All(_graph.Nodes, n => Assert.Equal(0, n.QuiesceCounter));

        faulty.FailInactivations = 1;
        e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.SetActiveAsync(null, false));
        Assert.Equal($"Failed to inactivate all nodes: {FaultyFilterNode.InjectedMessage}", e.Message);
        Assert.True(_graph.AllActive);
        await Node("disk0").WriteAsync(0, new byte[512]);
    }

    [Fact]
    public async Task Activation_fails_while_another_process_holds_the_image_and_succeeds_after()
    {
        await _graph.SetActiveAsync("disk0", false);
        await using (await QemuIoHolder.OpenAsync(QemuTools.QemuIo, ["-f", "raw", _image]))
        {
            var e = await Assert.ThrowsAsync<BlockException>(() => _graph.SetActiveAsync("disk0", true));
            Assert.Contains("\"write\" lock", e.Message, StringComparison.Ordinal);
            Assert.NotEqual(BlockActivation.Active, Node("disk0").Activation);
            Assert.NotEqual(BlockActivation.Active, Node("f0").Activation);
            Assert.False(_graph.AllActive);
        }
        await _graph.SetActiveAsync("disk0", true);
        Assert.True(_graph.AllActive);
    }

    private BlockNode Node(string name) => _graph.FindNode(name) ?? throw new InvalidOperationException($"no node {name}");

    // Stands in for a commit job's hold on its base: a user that must go on writing.
    private sealed class RecordingUser : IBlockParent
    {
        public int Begins { get; private set; }

        public string Description => "job0";

        public void DrainedBegin() => Begins++;

        public void DrainedEnd()
        {
        }

        public bool DrainedPoll() => false;

        public bool AllowsInactivation => false;
    }
}
