using Qmp.Block.Backends;
using Qmp.Block.File;
using Qmp.Block.Options;
using Qmp.Block.Raw;

namespace Qmp.Block.Tests.Core;

/// <summary>
/// Drained sections while guest I/O keeps coming: inside a section nothing is in flight anywhere and
/// nothing gets through, and the guest makes progress again once the section ends.
/// </summary>
public sealed class GuestIoDrainTests : IAsyncLifetime
{
    private const long DiskSize = 1 << 20;
    private const int Workers = 4;

    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();
    private string _image = "";

    public Task InitializeAsync()
    {
        _image = _dir.CreateSparse("disk.img", DiskSize);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task No_request_is_in_flight_inside_a_drained_section_under_concurrent_guest_io(bool legacyDrive)
    {
        var backend = await BackendAsync(legacyDrive);
        var raw = backend.Root!;
        var file = raw.File!;
        var port = new RecordingDevicePort();
        backend.AttachDevice(port);
        const int sections = 24;

        await using (var load = new GuestLoad(backend, Workers, DiskSize))
        {
            var completed = load.Completed;
            for (var i = 0; i < sections; i++)
            {
                await load.WaitForProgressAsync(completed);
                using (var section = (i % 3) switch
                {
                    0 => await DrainedSection.BeginAsync(raw),
                    1 => await DrainedSection.BeginAsync(file),
                    _ => await _graph.DrainAllAsync(),
                })
                {
                    AssertNoNodeBusy();
                    Assert.True(backend.Quiesced);
                    Assert.Equal(1, port.Depth);
                    var frozen = load.Completed;
                    for (var k = 0; k < 4; k++)
                    {
                        await Task.Yield();
                        await Task.Delay(1);
                        AssertNoNodeBusy();
                        Assert.Equal(0, backend.InFlight);
                        Assert.Equal(frozen, load.Completed);
                        load.ThrowIfFaulted();
                    }
                    completed = load.Completed;
                }
                Assert.False(backend.Quiesced);
            }
            await load.WaitForProgressAsync(completed);
            Assert.Null(load.Fault);
        }
        Assert.Equal(sections, port.Begins);
        Assert.Equal(sections, port.Ends);
        Assert.Equal(1, port.MaxDepth);
        Assert.Equal(0, port.UnpairedEnds);
        Assert.True(port.Polls >= sections);
        Assert.All(_graph.Nodes, n => Assert.Equal(0, n.QuiesceCounter));
    }

    [Fact]
    public async Task Nested_sections_under_guest_io_hold_it_until_both_end()
    {
        var backend = await BackendAsync(legacyDrive: true);
        var port = new RecordingDevicePort();
        backend.AttachDevice(port);
        await using var load = new GuestLoad(backend, Workers, DiskSize);
        await load.WaitForProgressAsync(0);

        var outer = await DrainedSection.BeginAsync(backend.Root!);
        var inner = await _graph.DrainAllAsync();
        var frozen = load.Completed;
        outer.Dispose();
        for (var k = 0; k < 5; k++)
        {
            await Task.Delay(1);
            AssertNoNodeBusy();
            Assert.Equal(0, backend.InFlight);
            Assert.Equal(frozen, load.Completed);
        }
        Assert.True(backend.Quiesced);
        inner.Dispose();
        await load.WaitForProgressAsync(frozen);
        Assert.Null(load.Fault);
        Assert.Equal((1, 1), (port.Begins, port.Ends));
    }

    [Fact]
    public async Task No_request_reaches_any_driver_while_the_section_lasts()
    {
        // backend -> raw -> probe -> file, so a request slipping past the gate would be seen entering a driver.
        var file = FileNode.Open(_image, readOnly: false);
        file.NodeName = "file";
        var probe = new ProbeFilterNode(file, "probe");
        var raw = RawNode.Open(probe, readOnly: false);
        raw.NodeName = "raw";
        raw.AddChild("file", probe);
        var backend = new BlockBackend("drive0");
        backend.Insert(raw);
        try
        {
            await using var load = new GuestLoad(backend, Workers, DiskSize);
            var completed = load.Completed;
            BlockNode[] nodes = [raw, probe, file];
            for (var i = 0; i < 15; i++)
            {
                await load.WaitForProgressAsync(completed);
                using (await DrainedSection.BeginAsync(nodes[i % 3]))
                {
                    probe.Watching = true;
                    for (var k = 0; k < 3; k++)
                    {
                        await Task.Delay(1);
                        Assert.All(nodes, n => Assert.Equal(0, n.InFlight));
                    }
                    probe.Watching = false;
                    completed = load.Completed;
                }
            }
            Assert.Equal(0, probe.Violations);
            Assert.Null(load.Fault);
        }
        finally
        {
            backend.Eject();
            await raw.CloseAsync();
            await probe.CloseAsync();
            await file.CloseAsync();
        }
    }

    [Fact]
    public async Task Requests_held_at_the_gate_complete_with_their_data_after_the_section()
    {
        var backend = await BackendAsync(legacyDrive: false);
        var data = TempDirectory.Pattern(4096, 50);
        Task write;
        using (await DrainedSection.BeginAsync(backend.Root!))
        {
            write = backend.WriteAsync(8192, data).AsTask();
            await Task.Delay(2);
            Assert.False(write.IsCompleted);
            Assert.Equal(0, backend.Stats.WriteOperations);
        }
        await write;
        var back = new byte[4096];
        await backend.ReadAsync(8192, back);
        Assert.Equal(data, back);
        Assert.Equal(1, backend.Stats.WriteOperations);
    }

    private void AssertNoNodeBusy()
    {
        foreach (var node in _graph.Nodes)
            Assert.True(node.InFlight == 0, $"{node.NodeName} has {node.InFlight} requests in flight inside a drained section");
    }

    // -drive id=drive0 (a named backend) or -blockdev node-name=disk0 + -device drive=disk0 (an anonymous one).
    private async Task<BlockBackend> BackendAsync(bool legacyDrive)
    {
        var options = new RawBlockdevOptions { NodeName = legacyDrive ? null : "disk0", File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = _image }) };
        if (legacyDrive)
            return await _graph.AddDriveAsync("drive0", options);
        await _graph.AddAsync(options);
        return _graph.ResolveDrive("disk0")!;
    }
}
