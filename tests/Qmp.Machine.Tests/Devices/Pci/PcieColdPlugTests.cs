using Qmp.Block;
using Qmp.Block.Options;
using Qmp.Machine.Devices.Pci;
using Qmp.Machine.Devices.Virtio;
using Qmp.Machine.Pc;

namespace Qmp.Machine.Tests.Devices.Pci;

/// <summary>-device pcie-root-port and devices behind it on the pc board, as QEMU's command line takes them.</summary>
public sealed class PcieColdPlugTests
{
    [Fact]
    public async Task Disk_behind_a_root_port_is_present_and_powered_at_boot()
    {
        var image = Path.GetTempFileName();
        await using var block = new BlockGraph();
        try
        {
            await File.WriteAllBytesAsync(image, new byte[1 << 16]);
            await block.AddAsync(new RawBlockdevOptions { NodeName = "d0", File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = image }) });
            using var board = Board(block, Dev("pcie-root-port", ("id", "rp1"), ("chassis", "1")), Dev("virtio-blk-pci", ("drive", "d0"), ("bus", "rp1")));
            var port = board.Devices.OfType<PciHost>().Single().Devices.OfType<PcieRootPort>().Single();
            var disk = board.Devices.OfType<VirtioBlkPci>().Single();
            Assert.True(disk.Realized);
            Assert.Same(port.SecondaryBus, disk.Bus);
            Assert.Equal(new PciAddress(2, 0), port.Address);
            Assert.Equal(new PciAddress(0, 0), disk.Address);
            Assert.Equal("/machine/peripheral-anon/device[0]/virtio-backend", disk.Blk.QomPath);
            // PDS and power on, power indicator on, attention indicator off, DLL link active, no event.
            Assert.Equal(0x0040, port.SlotStatusValue);
            Assert.Equal(0x01C0, port.SlotControlValue);
            Assert.Equal(0x2000u, port.HostConfigRead(port.ExpressCapabilityOffset + 0x12, 2) & 0x2000);
            Assert.Equal("0000:00:02.0:00.0/virtio-blk", disk.SectionName);
        }
        finally
        {
            File.Delete(image);
        }
    }

    [Theory]
    [InlineData("Bus 'rp1' not found", "virtio-rng-pci,bus=rp1", "pcie-root-port,id=rp1,chassis=1")]
    [InlineData("Can't add chassis slot, error -16", "pcie-root-port,id=rp1,chassis=1", "pcie-root-port,id=rp2,chassis=1")]
    [InlineData("Device 'pcie-root-port' can't go on PCIE bus", "pcie-root-port,id=rp1,chassis=1", "pcie-root-port,id=rp2,chassis=2,bus=rp1")]
    [InlineData("Duplicate device ID 'rp1'", "pcie-root-port,id=rp1,chassis=1", "pcie-root-port,id=rp1,chassis=2")]
    [InlineData("PCI: slot 0 function 0 not available for virtio-rng-pci, in use by virtio-rng-pci,id=r0", "pcie-root-port,id=rp1,chassis=1", "virtio-rng-pci,id=r0,bus=rp1", "virtio-rng-pci,bus=rp1")]
    [InlineData("PCI: slot 1 function 0 not available for virtio-rng-pci, bus 'rp1' is a PCI Express port with only slot 0", "pcie-root-port,id=rp1,chassis=1", "virtio-rng-pci,bus=rp1,addr=1")]
    [InlineData("Property 'pcie-root-port.chassis' doesn't take value '256'", "pcie-root-port,id=rp1,chassis=256")]
    [InlineData("Device 'isa-debug-exit' can't go on PCI bus", "isa-debug-exit,bus=pci.0")]
    public void Bad_root_port_options_are_refused(string message, params string[] devices)
    {
        var e = Assert.Throws<MachineOperationException>(() => Board(new BlockGraph(), [.. devices.Select(Parse)]));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Root_port_properties_come_from_the_command_line()
    {
        using var board = Board(new BlockGraph(), Parse("pcie-root-port,id=rp1,chassis=4,slot=9,port=0x10,addr=5"));
        var port = board.Devices.OfType<PcieRootPort>().Single();
        Assert.Equal(((byte)4, (ushort)9, (byte)0x10, new PciAddress(5, 0)), (port.Chassis, port.PhysicalSlot, port.Port, port.Address!.Value));
        Assert.Equal(9u, port.HostConfigRead(port.ExpressCapabilityOffset + 0x14, 4) >> 19);
    }

    private static PcBoard Board(BlockGraph block, params DeviceConfig[] devices) =>
        new(new MachineConfig { Devices = devices }, new RecordingControl(), _ => throw new InvalidOperationException(), block);

    private static DeviceConfig Dev(string driver, params (string Key, string Value)[] properties) =>
        new(driver, [.. properties.Select(p => new KeyValuePair<string, string>(p.Key, p.Value))]);

    // DRIVER,key=value,... as -device writes it.
    private static DeviceConfig Parse(string option)
    {
        var parts = option.Split(',');
        return new DeviceConfig(parts[0], [.. parts.Skip(1).Select(p => p.Split('=')).Select(kv => new KeyValuePair<string, string>(kv[0], kv[1]))]);
    }
}
