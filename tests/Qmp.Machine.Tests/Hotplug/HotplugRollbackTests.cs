using Qmp.Machine.Devices;
using Qmp.Machine.Devices.Pci;
using Qmp.Machine.Devices.Virtio;
using static Qmp.Machine.Tests.Hotplug.HotplugMachine;
using static Qmp.Machine.Tests.Hotplug.HotplugTestGuest;

namespace Qmp.Machine.Tests.Hotplug;

/// <summary>
/// The seed lesson for device_add: a failure at any step of creating, realizing and plugging a disk leaves
/// the whole object tree, query-pci, both ports' configuration space, the interrupt levels and the block
/// backends exactly as they were, and the drive free for the next device.
/// </summary>
public sealed class HotplugRollbackTests
{
    public static TheoryData<string> FailurePoints() =>
    [
        "property value",
        "unknown drive",
        "drive used by another device",
        "drive attached, queue size refused",
        "child realize (geometry)",
        "child realize (write permission)",
        "slot locked",
        .. Enum.GetNames<PciRealizeStep>(),
    ];

    [Theory]
    [MemberData(nameof(FailurePoints))]
    public async Task Failed_device_add_leaves_no_trace(string failAt)
    {
        await using var rig = await StartAsync(
            Device("virtio-blk-pci", ("id", "cold0"), ("drive", "drv0"), ("bus", "rp2")),
            Device("pcie-root-port", ("id", "rp3"), ("chassis", "3")),
            Device("virtio-blk-pci", ("id", "cold1"), ("drive", "d1"), ("bus", "rp3")));
        await rig.Guest.InitAsync();
        await rig.Guest.AcknowledgeAsync(2);
        var drive = failAt switch
        {
            "unknown drive" => "nope",
            "drive used by another device" => "drv0",
            "child realize (write permission)" => "d1",
            _ => "d0",
        };
        var properties = new List<(string, string)> { ("id", "hp0"), ("drive", drive), ("bus", "rp1") };
        switch (failAt)
        {
            case "property value":
                properties.Add(("num-queues", "many"));
                break;
            case "drive attached, queue size refused":
                properties.Add(("queue-size", "2"));
                break;
            case "child realize (geometry)":
                properties.AddRange([("cyls", "70000"), ("heads", "16"), ("secs", "63")]);
                break;
            case "slot locked":
                await rig.Guest.WriteSlotControlAsync(2, (ushort)(await rig.Guest.SlotControlAsync(2) | Eic));
                await rig.Guest.AcknowledgeAsync(2);
                break;
        }
        var injected = Enum.TryParse<PciRealizeStep>(failAt, out var step);
        if (injected)
        {
            await rig.OnMachine(() => rig.Host.FaultInjection = (device, at) =>
            {
                if (device is VirtioBlkPci && at == step)
                    throw new DeviceRealizeException($"injected failure at {at}");
            });
        }
        var before = await rig.SnapshotAsync();

        var e = await Assert.ThrowsAsync<MachineOperationException>(() => rig.AddAsync("virtio-blk-pci", [.. properties]));

        Assert.Equal(failAt switch
        {
            "property value" => "Property 'virtio-blk-pci.num-queues' doesn't take value 'many'",
            "unknown drive" => "Property 'virtio-blk-device.drive' can't find value 'nope'",
            "drive used by another device" => "Drive 'drv0' is already in use by another device",
            "drive attached, queue size refused" => "invalid queue-size property (2), must be > 2",
            "child realize (geometry)" => "cyls must be between 1 and 65535",
            "child realize (write permission)" => "Permission conflict on node 'd1': permissions 'write' are both required by block device '/machine/peripheral/cold1/virtio-backend' (uses node 'd1' as 'root' child) and unshared by block device '/machine/peripheral/hp0/virtio-backend' (uses node 'd1' as 'root' child).",
            "slot locked" => "slot is electromechanically locked: Device or resource busy",
            _ => $"injected failure at {failAt}",
        }, e.Message);
        Assert.Equal(before, await rig.SnapshotAsync());
        Assert.Empty(rig.Observer.Events);

        // Nothing lingers: the same drive (or d0 where the drive belongs to another device) goes into the same slot.
        await rig.OnMachine(() => rig.Host.FaultInjection = null);
        if (failAt == "slot locked")
            await rig.Guest.WriteSlotControlAsync(2, (ushort)(await rig.Guest.SlotControlAsync(2) | Eic));
        var retry = failAt is "unknown drive" or "drive used by another device" or "child realize (write permission)" ? "d0" : drive;
        await rig.AddAsync("virtio-blk-pci", ("id", "hp0"), ("drive", retry), ("bus", "rp1"));
        Assert.Equal(Pds | Pdc, await rig.Guest.SlotStatusAsync(2) & (Pds | Pdc));
        var users = await rig.OnMachine(() => rig.Block.FindNode(retry)!.Users.Count);
        Assert.Equal(1, users);
    }

    [Fact]
    public async Task Failed_plug_step_unrealizes_the_realized_device()
    {
        await using var rig = await StartAsync();
        VirtioBlkPci? seen = null;
        await rig.OnMachine(() => rig.Host.FaultInjection = (device, at) =>
        {
            if (at == PciRealizeStep.Plug)
            {
                seen = (VirtioBlkPci)device;
                Assert.True(device.Realized);
                throw new DeviceRealizeException("injected failure at Plug");
            }
        });
        await Assert.ThrowsAsync<MachineOperationException>(() => rig.AddAsync("virtio-blk-pci", ("id", "hp0"), ("drive", "d0"), ("bus", "rp1")));
        Assert.NotNull(seen);
        Assert.False(seen.Realized);
        Assert.Null(seen.Blk.DriveBackend);
        Assert.Empty(await rig.OnMachine(() => rig.Block.FindNode("d0")!.Users));
        await rig.Block.DeleteAsync("d0");
    }
}
