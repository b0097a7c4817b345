namespace Qmp.Machine.Tests.Devices.Pci;

public sealed class PciCapabilityTests : IDisposable
{
    private readonly PciTestBoard _pci = new();

    public void Dispose() => _pci.Dispose();

    [Fact]
    public void Walking_the_list_from_0x34_finds_every_capability_newest_first()
    {
        var device = new TestPciDevice
        {
            Capabilities = [(0x01, [0x03, 0x00, 0x00, 0x00, 0x00, 0x00]), (0x09, [0x10, 0xAA, 0xBB]), (0x05, new byte[12])],
        };
        _pci.Host.Plug(device, 3);
        Assert.Equal([0x40, 0x48, 0x50], device.CapabilityOffsets);
        Assert.Equal(0x10u, _pci.ConfigRead(3, 0, 0x06, 2) & 0x10);
        var found = new List<(int Offset, uint Id)>();
        for (var next = (int)_pci.ConfigRead(3, 0, 0x34, 1); next != 0; next = (int)_pci.ConfigRead(3, 0, next + 1, 1))
            found.Add((next, _pci.ConfigRead(3, 0, next, 1)));
        Assert.Equal([(0x50, 0x05u), (0x48, 0x09u), (0x40, 0x01u)], found);
        Assert.Equal(0xAA104009u, _pci.ConfigRead(3, 0, 0x48, 4));
    }

    [Fact]
    public void Capability_bytes_are_read_only()
    {
        var device = new TestPciDevice { Capabilities = [(0x09, [0x04, 0x11])] };
        _pci.Host.Plug(device, 3);
        _pci.ConfigWrite(3, 0, 0x40, 4, 0xFFFFFFFF);
        Assert.Equal(0x11040009u, _pci.ConfigRead(3, 0, 0x40, 4));
        _pci.ConfigWrite(3, 0, 0x34, 1, 0x80);
        Assert.Equal(0x40u, _pci.ConfigRead(3, 0, 0x34, 1));
    }

    [Fact]
    public void Device_without_capabilities_has_an_empty_list_and_writable_device_registers()
    {
        _pci.Host.Plug(new TestPciDevice(), 3);
        Assert.Equal(0u, _pci.ConfigRead(3, 0, 0x06, 2) & 0x10);
        Assert.Equal(0u, _pci.ConfigRead(3, 0, 0x34, 1));
        _pci.ConfigWrite(3, 0, 0x40, 4, 0x12345678);
        Assert.Equal(0x12345678u, _pci.ConfigRead(3, 0, 0x40, 4));
    }

    [Fact]
    public void Capability_that_does_not_fit_fails_realize()
    {
        var device = new TestPciDevice { Capabilities = [(0x09, new byte[190]), (0x09, new byte[20])] };
        var e = Assert.Throws<Qmp.Machine.Devices.DeviceRealizeException>(() => _pci.Host.Plug(device, 3));
        Assert.Contains("no room", e.Message);
        Assert.Null(_pci.Host.Find(3, 0));
    }
}
