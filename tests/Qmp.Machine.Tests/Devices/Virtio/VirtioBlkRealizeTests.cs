using System.Text.Json.Nodes;
using Qmp.Block.Backends;
using Qmp.Block.Options;
using Qmp.Machine.Devices;
using Qmp.Machine.Devices.Virtio;

namespace Qmp.Machine.Tests.Devices.Virtio;

public sealed class VirtioBlkRealizeTests
{
    [Fact]
    public async Task Realize_fails_when_drive_missing_and_leaves_the_slot_free()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync(d => d.Drive = null, plug: false);
        var e = Assert.Throws<DeviceRealizeException>(rig.Plug);
        Assert.Equal("drive property not set", e.Message);
        Assert.False(rig.Device.Realized);
        rig.Pci.Host.Plug(new VirtioRngPci(), VirtioBlkTestRig.Slot);
    }

    [Fact]
    public async Task Realize_fails_for_an_unknown_drive_with_qemus_property_error()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync(d => d.Drive = "nope", plug: false);
        var e = Assert.Throws<DeviceRealizeException>(rig.Plug);
        Assert.Equal("Property 'virtio-blk-device.drive' can't find value 'nope'", e.Message);
        Assert.Empty(rig.Graph.Backends);
    }

    [Fact]
    public async Task Realize_fails_when_the_named_drive_is_already_in_use()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync(d => d.Drive = "drv0", plug: false);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, new byte[1 << 16]);
            var drive = await rig.Graph.AddDriveAsync("drv0", new RawBlockdevOptions { File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = path }) });
            rig.Plug();
            var second = new VirtioBlkPci { Id = "vd1", Drive = "drv0" };
            var e = Assert.Throws<DeviceRealizeException>(() => rig.Pci.Host.Plug(second, 5));
            Assert.Equal("Drive 'drv0' is already in use by another device", e.Message);
            Assert.Same(rig.Blk, drive.Device);
            Assert.Equal("drv0", drive.Description);
            rig.Device.Unrealize();
            Assert.Null(drive.Device);
            Assert.Same(drive, rig.Graph.FindBackend("drv0"));
            rig.Pci.Host.Plug(second, 5);
            Assert.Same(second.Blk, drive.Device);
            second.Unrealize();
        }
        finally
        {
            await rig.Graph.DisposeAsync();
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Second_writer_on_a_node_is_a_permission_conflict_and_leaves_no_backend_behind()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync();
        var e = Assert.Throws<DeviceRealizeException>(() => rig.Pci.Host.Plug(new VirtioBlkPci { Id = "vd1", Drive = "disk0" }, 5));
        Assert.Equal(
            "Permission conflict on node 'disk0': permissions 'write' are both required by block device '/machine/peripheral/vd0/virtio-backend' " +
            "(uses node 'disk0' as 'root' child) and unshared by block device '/machine/peripheral/vd1/virtio-backend' (uses node 'disk0' as 'root' child).",
            e.Message);
        Assert.Single(rig.Graph.Backends);
        Assert.Single(rig.Node.Users);
    }

    [Fact]
    public async Task Sharing_writer_still_conflicts_with_a_user_that_does_not_share()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync();
        var e = Assert.Throws<DeviceRealizeException>(() => rig.Pci.Host.Plug(new VirtioBlkPci { Id = "vd1", Drive = "disk0", ShareRw = true }, 5));
        Assert.Equal(
            "Permission conflict on node 'disk0': permissions 'write' are both required by block device '/machine/peripheral/vd1/virtio-backend' " +
            "(uses node 'disk0' as 'root' child) and unshared by block device '/machine/peripheral/vd0/virtio-backend' (uses node 'disk0' as 'root' child).",
            e.Message);
    }

    [Fact]
    public async Task Share_rw_on_both_devices_lets_them_write_one_node()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync(d => d.ShareRw = true);
        var second = new VirtioBlkPci { Id = "vd1", Drive = "disk0", ShareRw = true };
        rig.Pci.Host.Plug(second, 5);
        Assert.Equal(2, rig.Node.Users.Count);
        second.Unrealize();
        Assert.Single(rig.Node.Users);
    }

    [Theory]
    [InlineData("queue-size", "2", "invalid queue-size property (2), must be > 2")]
    [InlineData("queue-size", "100", "invalid queue-size property (100), must be a power of 2 (max 1024)")]
    [InlineData("queue-size", "2048", "invalid queue-size property (2048), must be a power of 2 (max 1024)")]
    [InlineData("num-queues", "0", "num-queues property must be larger than 0")]
    [InlineData("logical_block_size", "256", "Property .logical_block_size doesn't take value 256 (minimum: 512, maximum: 2097152)")]
    [InlineData("logical_block_size", "1000", "Property .logical_block_size doesn't take value '1000', it's not a power of 2")]
    [InlineData("physical_block_size", "1536", "Property .physical_block_size doesn't take value '1536', it's not a power of 2")]
    [InlineData("logical_block_size", "4096", "logical_block_size > physical_block_size not supported")]
    [InlineData("min_io_size", "100", "min_io_size must be a multiple of logical_block_size")]
    [InlineData("max-discard-sectors", "0", "invalid max-discard-sectors property (0), must be between 1 and 4194303")]
    [InlineData("max-write-zeroes-sectors", "4194304", "invalid max-write-zeroes-sectors property (4194304), must be between 1 and 4194303")]
    [InlineData("cyls", "70000", "cyls must be between 1 and 65535")]
    [InlineData("heads", "300", "cyls must be between 1 and 65535")]
    public async Task Realize_refuses_bad_properties_with_qemus_text_and_rolls_back(string property, string value, string message)
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync(d => d.WriteErrorPolicy = BlockErrorPolicy.Stop, plug: false);
        rig.Device.QomProperties().Single(p => p.Name == property).Set(JsonNode.Parse(value));
        var e = Assert.Throws<DeviceRealizeException>(rig.Plug);
        Assert.Equal(message, e.Message);
        // Nothing remains: no backend, no user on the node, the slot is free.
        Assert.Empty(rig.Graph.Backends);
        Assert.Empty(rig.Node.Users);
        var next = new VirtioBlkPci { Id = "vd1", Drive = "disk0" };
        rig.Pci.Host.Plug(next, VirtioBlkTestRig.Slot);
        Assert.Equal(BlockErrorPolicy.Enospc, next.Blk.DriveBackend!.WriteErrorPolicy);
        next.Unrealize();
    }

    [Fact]
    public async Task Failed_realize_restores_the_policies_of_a_named_drive()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync(d =>
        {
            d.Drive = "drv0";
            d.WriteErrorPolicy = BlockErrorPolicy.Stop;
            d.ReadErrorPolicy = BlockErrorPolicy.Ignore;
            (d.Cylinders, d.Heads, d.Sectors) = (10, 300, 63);
        }, plug: false);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, new byte[1 << 16]);
            var drive = await rig.Graph.AddDriveAsync("drv0", new RawBlockdevOptions { File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = path }) });
            var e = Assert.Throws<DeviceRealizeException>(rig.Plug);
            Assert.Equal("heads must be between 1 and 255", e.Message);
            Assert.Null(drive.Device);
            Assert.Equal((BlockErrorPolicy.Report, BlockErrorPolicy.Enospc), (drive.ReadErrorPolicy, drive.WriteErrorPolicy));
        }
        finally
        {
            await rig.Graph.DisposeAsync();
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Realize_sets_the_policies_on_the_backend()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync(d => (d.ReadErrorPolicy, d.WriteErrorPolicy) = (BlockErrorPolicy.Ignore, BlockErrorPolicy.Stop));
        var backend = rig.Blk.DriveBackend!;
        Assert.Equal((BlockErrorPolicy.Ignore, BlockErrorPolicy.Stop), (backend.ReadErrorPolicy, backend.WriteErrorPolicy));
        Assert.Equal("/machine/peripheral/vd0/virtio-backend", backend.Description);
    }

    [Fact]
    public async Task Unrealize_releases_the_drive_for_another_device()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync();
        rig.Start();
        rig.Pci.Host.Unplug(rig.Device);
        Assert.Empty(rig.Graph.Backends);
        Assert.Empty(rig.Node.Users);
        Assert.Null(rig.Blk.DriveBackend);
        var next = new VirtioBlkPci { Id = "vd1", Drive = "disk0" };
        rig.Pci.Host.Plug(next, VirtioBlkTestRig.Slot);
        Assert.Same(next.Blk, next.Blk.DriveBackend!.Device);
        next.Unrealize();
    }

    [Fact]
    public async Task Properties_freeze_after_realize()
    {
        await using var rig = await VirtioBlkTestRig.CreateAsync();
        var e = Assert.Throws<InvalidOperationException>(() => rig.Device.Drive = "other");
        Assert.Equal("Attempt to set property 'drive' on device 'vd0' (type 'virtio-blk-pci') after it was realized", e.Message);
        Assert.Throws<InvalidOperationException>(() => rig.Device.QueueSize = 128);
        Assert.Equal("disk0", rig.Device.Drive);
    }
}
