using Qmp.Machine.Devices;
using Qmp.Machine.Devices.Pc;
using Qmp.Machine.Devices.Pci;
using Qmp.Machine.Devices.Virtio;

namespace Qmp.Machine.Tests.Devices.Pci;

public sealed class PciPlugTests : IDisposable
{
    private readonly PciTestBoard _pci = new();

    public void Dispose() => _pci.Dispose();

    [Fact]
    public void Device_without_a_slot_takes_the_first_free_one()
    {
        var first = new TestPciDevice();
        var second = new TestPciDevice();
        _pci.Host.Plug(first);
        _pci.Host.Plug(second);
        Assert.Equal(new PciAddress(2, 0), first.Address);
        Assert.Equal(new PciAddress(3, 0), second.Address);
        Assert.Equal(0x11E81234u, _pci.ConfigRead(3, 0, 0x00, 4));
        Assert.Same(second, _pci.Host.Find(3, 0));
    }

    [Fact]
    public void Taken_slot_is_refused_with_qemus_message()
    {
        _pci.Host.Plug(new VirtioRngPci { Id = "x" }, 3);
        var e = Assert.Throws<DeviceRealizeException>(() => _pci.Host.Plug(new VirtioRngPci(), 3));
        Assert.Equal("PCI: slot 3 function 0 not available for virtio-rng-pci, in use by virtio-rng-pci,id=x", e.Message);
        e = Assert.Throws<DeviceRealizeException>(() => _pci.Host.Plug(new TestPciDevice(), 1));
        Assert.Equal("PCI: slot 1 function 0 not available for test-pci, in use by PIIX3,id=(null)", e.Message);
    }

    [Fact]
    public void Full_bus_is_refused_with_qemus_message()
    {
        for (var slot = 2; slot < 32; slot++)
            _pci.Host.Plug(new TestPciDevice(), slot);
        var e = Assert.Throws<DeviceRealizeException>(() => _pci.Host.Plug(new TestPciDevice()));
        Assert.Equal("PCI: no slot/function available for test-pci, all in use or reserved", e.Message);
    }

    [Theory]
    [InlineData(32, 0)]
    [InlineData(-1, 0)]
    [InlineData(3, 8)]
    public void Address_out_of_range_is_refused(int slot, int function)
    {
        var e = Assert.Throws<DeviceRealizeException>(() => _pci.Host.Plug(new TestPciDevice(), slot, function));
        Assert.Contains("Property 'test-pci.addr' doesn't take value", e.Message);
    }

    [Fact]
    public void Other_functions_need_function_0_to_be_multifunction()
    {
        _pci.Host.Plug(new TestPciDevice(), 3);
        var e = Assert.Throws<DeviceRealizeException>(() => _pci.Host.Plug(new TestPciDevice(), 3, 1));
        Assert.Equal("PCI: single function device can't be populated in function 3.1", e.Message);
        _pci.Host.Plug(new TestPciDevice { Multifunction = true }, 4);
        _pci.Host.Plug(new TestPciDevice(), 4, 2);
        Assert.Equal(0x80u, _pci.ConfigRead(4, 0, 0x0E, 1));
        Assert.Equal(0x11E81234u, _pci.ConfigRead(4, 2, 0x00, 4));
    }

    [Fact]
    public void Single_function_device_cannot_join_a_populated_slot()
    {
        _pci.Host.Plug(new TestPciDevice(), 5, 1);
        var e = Assert.Throws<DeviceRealizeException>(() => _pci.Host.Plug(new TestPciDevice(), 5));
        Assert.Equal("PCI: 5.0 indicates single function, but 5.1 is already populated.", e.Message);
    }

    [Fact]
    public void Piix3_functions_can_join_the_isa_bridge_slot()
    {
        _pci.Host.Plug(new TestPciDevice(), 1, 1);
        Assert.Equal(0x11E81234u, _pci.ConfigRead(1, 1, 0x00, 4));
    }

    [Theory]
    [InlineData("no bus")]
    [InlineData("taken slot")]
    [InlineData("single function slot")]
    [InlineData("bad BAR")]
    [InlineData("taken fixed port")]
    [InlineData("subclass failure")]
    public void Failed_realize_leaves_the_bus_and_address_spaces_as_they_were(string step)
    {
        var uart = _pci.Board.Realize(new Uart16550 { Index = 0 });
        _pci.Host.Plug(new TestPciDevice(), 5, 1);
        var before = _pci.Host.QueryPci();
        var device = new TestPciDevice
        {
            Slot = step switch { "taken slot" => 1, "single function slot" => 5, _ => 3 },
            Bars = [(0, 0x20, PciBarType.Io), (1, 0x1000, PciBarType.Memory), (2, 0x4000, PciBarType.Memory64)],
            Capabilities = [(0x09, [0x04, 0x00])],
            BadBar = step == "bad BAR" ? (4, 0x3000, PciBarType.Memory) : null,
            FixedPort = step == "taken fixed port" ? (ushort)0x3F8 : (ushort)0x1F0,
            FailAtEnd = step == "subclass failure",
        };
        var e = Assert.Throws<DeviceRealizeException>(() =>
        {
            if (step == "no bus")
                device.Realize(_pci.Board.Context);
            else
                _pci.Host.Plug(device);
        });
        Assert.NotEmpty(e.Message);
        Assert.False(device.Realized);
        Assert.Null(device.Address);
        Assert.Equivalent(before, _pci.Host.QueryPci(), strict: true);
        Assert.Equal(0xFFFFFFFFu, _pci.ConfigRead(3, 0, 0x00, 4));
        Assert.Null(_pci.Io.Find(0x1F0));
        Assert.Equal("serial", _pci.Io.Find(0x3F8)!.Name);
        Assert.Equal("ram", Assert.Single(_pci.Memory.FlatView).Region.Name);
        Assert.True(uart.Realized);

        // Nothing of the attempt lingers: its slot and ports take another device.
        uart.Unrealize();
        var retry = new TestPciDevice { Bars = device.Bars, Capabilities = device.Capabilities, FixedPort = 0x1F0 };
        _pci.Host.Plug(retry, 3);
        Assert.Equal(0x40u, _pci.ConfigRead(3, 0, 0x34, 1));
    }

    [Fact]
    public void Unplugged_device_can_be_plugged_again()
    {
        var device = new TestPciDevice { Bars = [(1, 0x1000, PciBarType.Memory)] };
        _pci.Host.Plug(device, 3);
        _pci.Host.Unplug(device);
        Assert.Null(_pci.Host.Find(3, 0));
        _pci.Host.Plug(device, 6);
        Assert.Equal(new PciAddress(6, 0), device.Address);
        Assert.Equal(0xFFFFF000u, _pci.SizeBar(6, 1));
    }

    [Fact]
    public void Built_in_bridges_cannot_be_unplugged()
    {
        var e = Assert.Throws<InvalidOperationException>(() => _pci.Host.Unplug(_pci.Host.Find(1, 0)!));
        Assert.Contains("PIIX3", e.Message);
        Assert.Throws<ArgumentException>(() => _pci.Host.Unplug(new TestPciDevice()));
    }

    [Fact]
    public void Address_cannot_change_after_realize()
    {
        var device = new TestPciDevice();
        _pci.Host.Plug(device, 3);
        var e = Assert.Throws<InvalidOperationException>(() => device.Slot = 4);
        Assert.Contains("'addr'", e.Message);
    }

    [Fact]
    public void Type_names_are_qemus()
    {
        Assert.Equal("i440FX-pcihost", _pci.Host.TypeName);
        Assert.Equal("pci.0", _pci.Host.BusName);
        Assert.Equal(["i440FX", "PIIX3"], _pci.Host.Devices.Select(d => d.TypeName));
        Assert.Equal("virtio-rng-pci", new VirtioRngPci().TypeName);
    }
}
