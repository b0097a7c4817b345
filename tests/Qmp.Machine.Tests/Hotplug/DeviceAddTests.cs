using Qmp.Machine.Devices.Pci;
using Qmp.Machine.Devices.Virtio;
using Qmp.Machine.Qom;
using static Qmp.Machine.Tests.Hotplug.HotplugMachine;
using static Qmp.Machine.Tests.Hotplug.HotplugTestGuest;

namespace Qmp.Machine.Tests.Hotplug;

/// <summary>device_add through the machine: the slot tells the guest, and every refusal is QEMU's text.</summary>
public sealed class DeviceAddTests
{
    [Fact]
    public async Task Disk_added_behind_a_port_is_announced_and_reachable_once_the_guest_powers_the_slot()
    {
        await using var rig = await StartAsync();
        await rig.Guest.InitAsync();
        await rig.Guest.AcknowledgeAsync(2);

        await rig.AddAsync("virtio-blk-pci", ("id", "hp0"), ("drive", "d0"), ("bus", "rp1"));

        Assert.Equal(Pds | Pdc | Dllsc, await rig.Guest.SlotStatusAsync(2) & (Pds | Pdc | Dllsc));
        Assert.True(await rig.Guest.LinkActiveAsync(2));
        // The slot is not powered yet: the function does not answer.
        Assert.Equal(0xFFFFFFFFu, await rig.Guest.IdBehindAsync(2));
        await rig.Guest.AcknowledgeAsync(2);
        await rig.Guest.PowerOnAsync(2);
        Assert.Equal(0x10421AF4u, await rig.Guest.IdBehindAsync(2));

        var hp0 = await rig.OnMachine(() => rig.Board.Devices.OfType<VirtioBlkPci>().Single(d => d.Id == "hp0"));
        Assert.True(hp0.Realized);
        Assert.True(hp0.Hotplugged);
        Assert.Equal("/machine/peripheral/hp0/virtio-backend", hp0.Blk.QomPath);
        var bridge = await rig.OnMachine(() => rig.Host.QueryPci().Devices.Single(d => d.QdevId == "rp1").PciBridge!);
        var behind = Assert.Single(bridge.Devices!);
        Assert.Equal((1, 0, "hp0", 0x1042), (behind.Bus, behind.Slot, behind.QdevId, behind.Id.Device));
        var qom = await rig.OnMachine(() => QomBuilder.Build(rig.Machine).Resolve("/machine/peripheral/hp0", out _));
        Assert.Equal("virtio-blk-pci", qom!.TypeName);
        // The node is the device's now.
        var e = await Assert.ThrowsAsync<Qmp.Block.BlockGraphException>(() => rig.Block.DeleteAsync("d0"));
        Assert.Equal("Node d0 is in use", e.Message);
    }

    [Fact]
    public async Task Id_less_device_goes_under_peripheral_anon()
    {
        await using var rig = await StartAsync();
        await rig.AddAsync("virtio-rng-pci", ("bus", "rp1"));
        var path = await rig.OnMachine(() => QomBuilder.Build(rig.Machine).Resolve("/machine/peripheral-anon/device[0]", out _)?.TypeName);
        Assert.Equal("virtio-rng-pci", path);
    }

    public static TheoryData<string, DeviceConfig> Refusals() => new()
    {
        { "Duplicate device ID 'rp1'", Device("virtio-rng-pci", ("id", "rp1"), ("bus", "rp2")) },
        { "'nope' is not a valid device model name", Device("nope", ("id", "x")) },
        { "'isa-serial' is not a valid device model name", Device("isa-serial") },
        { "Property 'virtio-blk-pci.bogus' not found", Device("virtio-blk-pci", ("bus", "rp1"), ("bogus", "1"), ("drive", "d0")) },
        { "Bus 'x' not found", Device("virtio-blk-pci", ("id", "rp1"), ("bus", "x"), ("bogus", "1")) },
        { "Bus 'pci.0' does not support hotplugging", Device("virtio-blk-pci", ("drive", "d0")) },
        { "Bus 'pci.0' does not support hotplugging", Device("virtio-rng-pci", ("bus", "pci.0")) },
        { "Bus 'isa.0' does not support hotplugging", Device("isa-debug-exit") },
        { "Bus 'isa.0' does not support hotplugging", Device("isa-debug-exit", ("bus", "isa.0")) },
        { "Device 'isa-debug-exit' can't go on PCIE bus", Device("isa-debug-exit", ("bus", "rp1")) },
        { "Device 'virtio-rng-pci' can't go on ISA bus", Device("virtio-rng-pci", ("bus", "isa.0")) },
        { "Bus 'pci.0' does not support hotplugging", Device("pcie-root-port", ("id", "rp9"), ("chassis", "9")) },
        { "Device 'pcie-root-port' can't go on PCIE bus", Device("pcie-root-port", ("id", "rp9"), ("chassis", "9"), ("bus", "rp1")) },
        { "Parameter 'id' expects an identifier", Device("virtio-rng-pci", ("id", "1bad"), ("bus", "rp1")) },
        { "drive property not set", Device("virtio-blk-pci", ("bus", "rp1")) },
        { "Property 'virtio-blk-device.drive' can't find value 'nope'", Device("virtio-blk-pci", ("bus", "rp1"), ("drive", "nope")) },
        { "Drive 'drv0' is already in use by another device", Device("virtio-blk-pci", ("bus", "rp1"), ("drive", "drv0")) },
        { "Property 'virtio-rng-pci.drive' not found", Device("virtio-rng-pci", ("bus", "rp1"), ("drive", "d0")) },
        { "PCI: slot 0 function 0 not available for virtio-rng-pci, in use by virtio-blk-pci,id=cold0", Device("virtio-rng-pci", ("bus", "rp2")) },
        { "PCI: slot 0 function 0 already occupied by virtio-blk-pci, new func virtio-rng-pci cannot be exposed to guest.", Device("virtio-rng-pci", ("bus", "rp2"), ("addr", "0.1")) },
        { "Bus 'rp3' does not support hotplugging", Device("virtio-rng-pci", ("bus", "rp3")) },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Refusals_have_qemus_texts_and_change_nothing(string message, DeviceConfig config)
    {
        await using var rig = await StartAsync(
            Device("virtio-blk-pci", ("id", "cold0"), ("drive", "drv0"), ("bus", "rp2")),
            Device("pcie-root-port", ("id", "rp3"), ("chassis", "3"), ("hotplug", "off")));
        var before = await rig.SnapshotAsync();
        var e = await Assert.ThrowsAsync<MachineOperationException>(() => rig.Machine.DeviceAddAsync(config));
        Assert.Equal(message, e.Message);
        Assert.Equal(before, await rig.SnapshotAsync());
    }

    [Fact]
    public async Task Outgoing_migration_refuses_device_add_and_device_del()
    {
        await using var rig = await StartAsync(Device("virtio-rng-pci", ("id", "r0"), ("bus", "rp2")));
        rig.Machine.OutgoingMigrationActive = true;
        var e = await Assert.ThrowsAsync<MachineOperationException>(() => rig.AddAsync("virtio-rng-pci", ("bus", "rp1")));
        Assert.Equal("device_add not allowed while migrating", e.Message);
        e = await Assert.ThrowsAsync<MachineOperationException>(() => rig.Machine.DeviceDelAsync("r0"));
        Assert.Equal("device_del not allowed while migrating", e.Message);
        // Checks that come first in QEMU still come first.
        e = await Assert.ThrowsAsync<MachineOperationException>(() => rig.AddAsync("virtio-rng-pci", ("bus", "pci.0")));
        Assert.Equal("Bus 'pci.0' does not support hotplugging", e.Message);
        rig.Machine.OutgoingMigrationActive = false;
        await rig.AddAsync("virtio-rng-pci", ("bus", "rp1"));
    }

    [Fact]
    public async Task Block_job_hook_refuses_a_disk_on_a_busy_node()
    {
        await using var rig = await StartAsync(Device("virtio-blk-pci", ("id", "cold1"), ("drive", "d1"), ("bus", "rp2")));
        rig.Machine.BlockJobHotplugCheck = node => node is "d0" or "d1" ? $"Node '{node}' is busy: block device is in use by block job: mirror" : null;
        var before = await rig.SnapshotAsync();
        var e = await Assert.ThrowsAsync<MachineOperationException>(() => rig.AddAsync("virtio-blk-pci", ("bus", "rp1"), ("drive", "d0")));
        Assert.Equal("Node 'd0' is busy: block device is in use by block job: mirror", e.Message);
        e = await Assert.ThrowsAsync<MachineOperationException>(() => rig.Machine.DeviceDelAsync("cold1"));
        Assert.Equal("Node 'd1' is busy: block device is in use by block job: mirror", e.Message);
        Assert.Equal(before, await rig.SnapshotAsync());
        rig.Machine.BlockJobHotplugCheck = null;
        await rig.AddAsync("virtio-blk-pci", ("bus", "rp1"), ("drive", "d0"));
    }

    [Fact]
    public async Task Machine_without_a_board_has_no_bus()
    {
        using var machine = new Machine(new MachineConfig { StartPaused = true });
        machine.Start();
        var e = await Assert.ThrowsAsync<MachineOperationException>(() => machine.DeviceAddAsync(Device("virtio-blk-pci", ("drive", "d0"))));
        Assert.Equal("No 'PCI' bus found for device 'virtio-blk-pci'", e.Message);
        var notFound = await Assert.ThrowsAsync<DeviceNotFoundException>(() => machine.DeviceDelAsync("x"));
        Assert.Equal("Device 'x' not found", notFound.Message);
    }

    [Fact]
    public async Task Root_port_from_the_command_line_is_a_pcie_root_port_with_its_properties()
    {
        await using var rig = await StartAsync();
        var port = await rig.OnMachine(() => rig.Host.Devices.OfType<PcieRootPort>().Single(p => p.Id == "rp2"));
        Assert.Equal((2, (ushort)0, new PciAddress(3, 0)), (port.Chassis, port.PhysicalSlot, port.Address!.Value));
        Assert.Equal("rp2", port.SecondaryBus.Name);
        Assert.True(port.SecondaryBus.Hotpluggable);
        Assert.False(rig.Host.Bus.Hotpluggable);
    }
}
