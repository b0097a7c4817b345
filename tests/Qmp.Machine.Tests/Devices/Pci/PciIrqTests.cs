namespace Qmp.Machine.Tests.Devices.Pci;

public sealed class PciIrqTests : IDisposable
{
    private readonly PciTestBoard _pci = new();

    public void Dispose() => _pci.Dispose();

    [Theory]
    [InlineData(2, 1, 1)]
    [InlineData(3, 1, 2)]
    [InlineData(4, 1, 3)]
    [InlineData(5, 1, 0)]
    [InlineData(3, 2, 3)]
    [InlineData(3, 4, 1)]
    [InlineData(8, 1, 3)]
    public void Pin_of_a_slot_drives_the_swizzled_pirq(int slot, byte pin, int pirq)
    {
        var device = new TestPciDevice { Pin = pin };
        _pci.Host.Plug(device, slot);
        _pci.Host.SetPirqRoute(pirq, 5);
        device.Raise();
        Assert.True(_pci.Board.Irq(5).Level);
        device.Lower();
        Assert.False(_pci.Board.Irq(5).Level);
    }

    [Fact]
    public void Intx_reaches_the_isa_irq_its_pirq_register_names()
    {
        var device = new TestPciDevice();
        _pci.Host.Plug(device, 3);
        _pci.ConfigWrite(1, 0, 0x62, 1, 11);
        Assert.Equal(11, _pci.Host.GetPirqRoute(2));
        device.Raise();
        Assert.True(_pci.Board.Irq(11).Level);
        Assert.Equal(1, _pci.Board.Irq(11).Rises);
    }

    [Fact]
    public void Disabled_route_drives_no_isa_irq()
    {
        var device = new TestPciDevice();
        _pci.Host.Plug(device, 3);
        Assert.Null(_pci.Host.GetPirqRoute(2));
        device.Raise();
        Assert.All(Enumerable.Range(0, 16), irq => Assert.False(_pci.Board.Irq(irq).Level));
    }

    [Fact]
    public void Routing_an_asserted_pirq_raises_the_new_irq_and_lowers_the_old()
    {
        var device = new TestPciDevice();
        _pci.Host.Plug(device, 3);
        device.Raise();
        _pci.Host.SetPirqRoute(2, 10);
        Assert.True(_pci.Board.Irq(10).Level);
        _pci.ConfigWrite(1, 0, 0x62, 1, 11);
        Assert.False(_pci.Board.Irq(10).Level);
        Assert.True(_pci.Board.Irq(11).Level);
        _pci.ConfigWrite(1, 0, 0x62, 1, 0x80);
        Assert.False(_pci.Board.Irq(11).Level);
    }

    [Fact]
    public void Status_bit_3_follows_the_device_and_interrupt_disable_masks_the_line()
    {
        var device = new TestPciDevice();
        _pci.Host.Plug(device, 3);
        _pci.Host.SetPirqRoute(2, 11);
        device.Raise();
        Assert.Equal(0x08u, _pci.ConfigRead(3, 0, 0x06, 2) & 0x08);
        _pci.SetCommand(3, 0x0400);
        Assert.False(_pci.Board.Irq(11).Level);
        Assert.Equal(0x08u, _pci.ConfigRead(3, 0, 0x06, 2) & 0x08);
        _pci.SetCommand(3, 0);
        Assert.True(_pci.Board.Irq(11).Level);
        device.Lower();
        Assert.Equal(0u, _pci.ConfigRead(3, 0, 0x06, 2) & 0x08);
        Assert.False(_pci.Board.Irq(11).Level);
    }

    [Fact]
    public void Raising_while_interrupts_are_disabled_asserts_when_they_are_enabled()
    {
        var device = new TestPciDevice();
        _pci.Host.Plug(device, 3);
        _pci.Host.SetPirqRoute(2, 11);
        _pci.SetCommand(3, 0x0400);
        device.Raise();
        Assert.False(_pci.Board.Irq(11).Level);
        _pci.SetCommand(3, 0);
        Assert.True(_pci.Board.Irq(11).Level);
    }

    [Fact]
    public void Shared_pirq_stays_high_until_every_device_drops()
    {
        var first = new TestPciDevice();
        var second = new TestPciDevice();
        _pci.Host.Plug(first, 3);
        _pci.Host.Plug(second, 7);
        _pci.Host.SetPirqRoute(2, 11);
        first.Raise();
        second.Raise();
        first.Lower();
        Assert.True(_pci.Board.Irq(11).Level);
        second.Lower();
        Assert.False(_pci.Board.Irq(11).Level);
    }

    [Fact]
    public void Pirqs_routed_to_one_isa_irq_share_it()
    {
        var onC = new TestPciDevice();
        var onD = new TestPciDevice();
        _pci.Host.Plug(onC, 3);
        _pci.Host.Plug(onD, 4);
        _pci.Host.SetPirqRoute(2, 11);
        _pci.Host.SetPirqRoute(3, 11);
        onC.Raise();
        onD.Raise();
        onC.Lower();
        Assert.True(_pci.Board.Irq(11).Level);
        onD.Lower();
        Assert.False(_pci.Board.Irq(11).Level);
    }

    [Fact]
    public void Unplugging_an_asserting_device_drops_its_interrupt()
    {
        var device = new TestPciDevice();
        _pci.Host.Plug(device, 3);
        _pci.Host.SetPirqRoute(2, 11);
        device.Raise();
        _pci.Host.Unplug(device);
        Assert.False(_pci.Board.Irq(11).Level);
    }

    [Fact]
    public void Bus_reset_disables_routing_and_deasserts_every_device()
    {
        var device = new TestPciDevice();
        _pci.Host.Plug(device, 3);
        _pci.Host.SetPirqRoute(2, 11);
        device.Raise();
        _pci.Host.Reset();
        Assert.False(_pci.Board.Irq(11).Level);
        Assert.Null(_pci.Host.GetPirqRoute(2));
        Assert.False(device.IrqAsserted);
    }

    [Fact]
    public void Firmware_routing_sets_pirqs_elcr_and_interrupt_lines_as_seabios()
    {
        using var pci = new PciTestBoard(withPic: true);
        var slot3 = new TestPciDevice();
        var slot5 = new TestPciDevice { Pin = 2 };
        var noPin = new TestPciDevice { Pin = 0 };
        pci.Host.Plug(slot3, 3);
        pci.Host.Plug(slot5, 5);
        pci.Host.Plug(noPin, 6);
        pci.Host.ApplyFirmwareIrqRouting();
        Assert.Equal(0x0B0B0A0Au, pci.ConfigRead(1, 0, 0x60, 4));
        Assert.Equal(0x00, pci.Board.In(0x4D0));
        Assert.Equal(0x0C, pci.Board.In(0x4D1));
        Assert.Equal(11u, pci.ConfigRead(3, 0, 0x3C, 1));
        Assert.Equal(10u, pci.ConfigRead(5, 0, 0x3C, 1));
        Assert.Equal(0u, pci.ConfigRead(6, 0, 0x3C, 1));
        slot3.Raise();
        Assert.NotEqual(0, pci.Board.Pic!.SlaveIrr & 0x08);
    }
}
