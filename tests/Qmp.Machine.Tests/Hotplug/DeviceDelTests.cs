using Qmp.Machine.Devices.Virtio;
using Qmp.Machine.Qom;
using static Qmp.Machine.Tests.Hotplug.HotplugMachine;
using static Qmp.Machine.Tests.Hotplug.HotplugTestGuest;

namespace Qmp.Machine.Tests.Hotplug;

/// <summary>device_del through the machine: the attention button, the guest's answer, DEVICE_DELETED only when the device is gone.</summary>
public sealed class DeviceDelTests
{
    private const string Backend = "DEVICE_DELETED - /machine/peripheral/hp0/virtio-backend";
    private const string Deleted = "DEVICE_DELETED hp0 /machine/peripheral/hp0";

    [Fact]
    public async Task Unplug_waits_for_the_guest_then_the_device_and_its_drive_are_released()
    {
        await using var rig = await PluggedAsync();

        await rig.Machine.DeviceDelAsync("hp0");

        Assert.Equal(Abp, await rig.Guest.SlotStatusAsync(2) & Abp);
        Assert.Empty(rig.Observer.Events);
        Assert.True(await IsListedAsync(rig));
        // A repeated request while the first is pending succeeds and does not press the button again.
        await rig.Guest.AcknowledgeAsync(2);
        await rig.Machine.DeviceDelAsync("hp0");
        await rig.Machine.DeviceDelAsync("/machine/peripheral/hp0");
        Assert.Equal(0, await rig.Guest.SlotStatusAsync(2) & Abp);
        Assert.Empty(rig.Observer.Events);
        // The id stays taken and the node stays in use while the guest has the device.
        var e = await Assert.ThrowsAsync<MachineOperationException>(() => rig.AddAsync("virtio-rng-pci", ("id", "hp0"), ("bus", "rp2")));
        Assert.Equal("Duplicate device ID 'hp0'", e.Message);
        var inUse = await Assert.ThrowsAsync<Qmp.Block.BlockGraphException>(() => rig.Block.DeleteAsync("d0"));
        Assert.Equal("Node d0 is in use", inUse.Message);

        await rig.Guest.AcknowledgeAsync(2);
        await rig.Guest.EjectAsync(2);

        Assert.Equal([Backend, Deleted], rig.Observer.Events);
        Assert.False(await IsListedAsync(rig));
        Assert.Null(await rig.OnMachine(() => QomBuilder.Build(rig.Machine).Resolve("/machine/peripheral/hp0", out _)));
        Assert.Equal(0, await rig.Guest.SlotStatusAsync(2) & Pds);
        Assert.False(await rig.Guest.LinkActiveAsync(2));
        var notFound = await Assert.ThrowsAsync<DeviceNotFoundException>(() => rig.Machine.DeviceDelAsync("hp0"));
        Assert.Equal("Device 'hp0' not found", notFound.Message);
        // The drive is free for another device, and the node can go once nothing uses it.
        await rig.AddAsync("virtio-blk-pci", ("id", "hp1"), ("drive", "d0"), ("bus", "rp1"));
        await rig.Machine.DeviceDelAsync("hp1");
        await rig.Guest.EjectAsync(2);
        await rig.Block.DeleteAsync("d0");
    }

    [Fact]
    public async Task Guest_refusal_is_reported_and_a_new_request_presses_the_button_again()
    {
        await using var rig = await PluggedAsync();
        await rig.Machine.DeviceDelAsync("hp0");
        await rig.Guest.AcknowledgeAsync(2);

        await rig.Guest.RefuseAsync(2);

        Assert.Equal(["DEVICE_UNPLUG_GUEST_ERROR hp0 /machine/peripheral/hp0"], rig.Observer.Events);
        Assert.True(await IsListedAsync(rig));
        await rig.Guest.AcknowledgeAsync(2);
        await rig.Machine.DeviceDelAsync("hp0");
        Assert.Equal(Abp, await rig.Guest.SlotStatusAsync(2) & Abp);
        await rig.Guest.EjectAsync(2);
        Assert.Equal(Deleted, rig.Observer.Events[^1]);
    }

    [Fact]
    public async Task System_reset_completes_a_pending_unplug_after_the_reset_event()
    {
        await using var rig = await PluggedAsync();
        await rig.Machine.DeviceDelAsync("hp0");

        await rig.Machine.ResetAsync(ShutdownCause.HostQmpSystemReset);

        Assert.Equal(["RESET", Backend, Deleted], rig.Observer.Events);
        Assert.False(await IsListedAsync(rig));
        await rig.Block.DeleteAsync("d0");
    }

    [Fact]
    public async Task System_reset_keeps_devices_without_a_request()
    {
        await using var rig = await PluggedAsync();
        await rig.Machine.ResetAsync(ShutdownCause.HostQmpSystemReset);
        Assert.Equal(["RESET"], rig.Observer.Events);
        Assert.True(await IsListedAsync(rig));
        // Reset powers the populated slot.
        Assert.Equal(PwrOn | AttnOff, await rig.Guest.SlotControlAsync(2));
    }

    [Fact]
    public async Task Device_in_a_slot_the_guest_never_powered_goes_at_once()
    {
        await using var rig = await StartAsync();
        await rig.AddAsync("virtio-blk-pci", ("id", "hp0"), ("drive", "d0"), ("bus", "rp1"));
        await rig.Machine.DeviceDelAsync("hp0");
        Assert.Equal([Backend, Deleted], rig.Observer.Events);
        Assert.False(await IsListedAsync(rig));
    }

    [Fact]
    public async Task Guest_may_eject_a_cold_plugged_disk_by_itself()
    {
        await using var rig = await StartAsync(Device("virtio-blk-pci", ("id", "cold0"), ("drive", "drv0"), ("bus", "rp2")));
        await rig.Guest.InitAsync();
        Assert.Equal(0x10421AF4u, await rig.Guest.IdBehindAsync(3));
        await rig.Guest.EjectAsync(3);
        Assert.Equal(["DEVICE_DELETED - /machine/peripheral/cold0/virtio-backend", "DEVICE_DELETED cold0 /machine/peripheral/cold0"], rig.Observer.Events);
        // A legacy drive stays, free for the next device.
        await rig.AddAsync("virtio-blk-pci", ("id", "hp2"), ("drive", "drv0"), ("bus", "rp2"));
    }

    [Theory]
    [InlineData("nope", "Device 'nope' not found")]
    [InlineData("/machine/peripheral/nope", "Device '/machine/peripheral/nope' not found")]
    [InlineData("peripheral/rp1", "Device 'peripheral/rp1' not found")]
    public async Task Unknown_device_is_device_not_found(string id, string message)
    {
        await using var rig = await StartAsync();
        var e = await Assert.ThrowsAsync<DeviceNotFoundException>(() => rig.Machine.DeviceDelAsync(id));
        Assert.Equal(message, e.Message);
    }

    [Theory]
    [InlineData("/machine/peripheral", "/machine/peripheral is not a hotpluggable device")]
    [InlineData("rng0", "Bus 'pci.0' does not support hotplugging")]
    [InlineData("rp1", "Bus 'pci.0' does not support hotplugging")]
    [InlineData("dbg", "Bus 'isa.0' does not support hotplugging")]
    [InlineData("/machine/unattached/device[0]", "Bus 'isa.0' does not support hotplugging")]
    [InlineData("/machine/unattached/device[2]", "Bus 'main-system-bus' does not support hotplugging")]
    [InlineData("/machine/unattached/device[1]", "Device 'apic' does not support hotplugging")]
    [InlineData("cold3", "Bus 'rp3' does not support hotplugging")]
    public async Task Devices_that_cannot_be_unplugged_are_refused_with_qemus_text(string id, string message)
    {
        await using var rig = await StartAsync(
            Device("virtio-rng-pci", ("id", "rng0")),
            Device("isa-debug-exit", ("id", "dbg")),
            Device("pcie-root-port", ("id", "rp3"), ("chassis", "3"), ("hotplug", "off")),
            Device("virtio-rng-pci", ("id", "cold3"), ("bus", "rp3")));
        var before = await rig.SnapshotAsync();
        var e = await Assert.ThrowsAsync<MachineOperationException>(() => rig.Machine.DeviceDelAsync(id));
        Assert.Equal(message, e.Message);
        Assert.Equal(before, await rig.SnapshotAsync());
    }

    // A machine whose guest has set up its slots and powered on hp0 (virtio-blk-pci on node d0 behind rp1).
    private static async Task<HotplugMachine> PluggedAsync()
    {
        var rig = await StartAsync();
        await rig.Guest.InitAsync();
        await rig.AddAsync("virtio-blk-pci", ("id", "hp0"), ("drive", "d0"), ("bus", "rp1"));
        await rig.Guest.AcknowledgeAsync(2);
        await rig.Guest.PowerOnAsync(2);
        await rig.Guest.AcknowledgeAsync(2);
        Assert.Equal(0x10421AF4u, await rig.Guest.IdBehindAsync(2));
        return rig;
    }

    private static Task<bool> IsListedAsync(HotplugMachine rig) => rig.OnMachine(() =>
        rig.Board.Devices.OfType<VirtioBlkPci>().Any(d => d.Id == "hp0")
        && rig.Host.FindBus("rp1")!.Devices.Any(d => d.Id == "hp0"));
}
