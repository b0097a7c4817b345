using Qmp.Machine.Devices.Pci;
using Qmp.Machine.Devices.Virtio;

namespace Qmp.Machine.Tests.Devices.Pci;

public sealed class PciQueryTests : IDisposable
{
    private readonly PciTestBoard _pci = new();

    public void Dispose() => _pci.Dispose();

    [Fact]
    public void Query_describes_the_host_bridge_and_isa_bridge_as_qemu()
    {
        var info = _pci.Host.QueryPci();
        Assert.Equal(0, info.Bus);
        Assert.Equal(2, info.Devices.Count);
        Assert.Equivalent(
            new PciDeviceInfo(0, 0, 0, new PciDeviceClass(0x0600, "Host bridge"), new PciDeviceId(0x8086, 0x1237, 0x1100, 0x1AF4), null, 0, "", []),
            info.Devices[0],
            strict: true);
        Assert.Equivalent(
            new PciDeviceInfo(0, 1, 0, new PciDeviceClass(0x0601, "ISA bridge"), new PciDeviceId(0x8086, 0x7000, 0x1100, 0x1AF4), null, 0, "", []),
            info.Devices[1],
            strict: true);
    }

    [Fact]
    public void Query_describes_virtio_rng_with_its_unprogrammed_modern_bar()
    {
        _pci.Host.Plug(new VirtioRngPci { Id = "rng0" });
        var rng = _pci.Host.QueryPci().Devices[2];
        Assert.Equivalent(
            new PciDeviceInfo(
                0,
                2,
                0,
                new PciDeviceClass(0x00FF, null),
                new PciDeviceId(0x1AF4, 0x1044, 0x1100, 0x1AF4),
                0,
                1,
                "rng0",
                [new PciMemoryRegion(4, "memory", -1, 0x4000, true, true)]),
            rng,
            strict: true);
    }

    [Fact]
    public void Query_reports_programmed_bars_and_the_interrupt_line()
    {
        var device = new TestPciDevice { Bars = [(0, 0x20, PciBarType.Io), (1, 0x1000, PciBarType.Memory)] };
        _pci.Host.Plug(device, 3);
        _pci.ProgramBar(3, 0, 0xC040);
        _pci.ProgramBar(3, 1, 0xFEB01000);
        _pci.SetCommand(3, 0x03);
        _pci.ConfigWrite(3, 0, 0x3C, 1, 11);
        var info = _pci.Host.QueryPci().Devices.Single(d => d.Slot == 3);
        Assert.Equal(11, info.Irq);
        Assert.Equal(1, info.IrqPin);
        Assert.Equal(new PciDeviceClass(0x0200, "Ethernet controller"), info.ClassInfo);
        Assert.Equal(
            [new PciMemoryRegion(0, "io", 0xC040, 0x20, null, null), new PciMemoryRegion(1, "memory", 0xFEB01000, 0x1000, false, false)],
            info.Regions);
    }
}
