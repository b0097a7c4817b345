using Qmp.Machine.Devices.Pci;

namespace Qmp.Machine.Tests.Devices.Pci;

public sealed class PciStateTests : IDisposable
{
    private readonly PciTestBoard _source = new();
    private readonly PciTestBoard _target = new();

    public void Dispose()
    {
        _source.Dispose();
        _target.Dispose();
    }

    [Fact]
    public void Config_space_round_trips_and_the_bars_map_where_they_were()
    {
        var from = Plug(_source);
        var to = Plug(_target);
        _source.ProgramBar(3, 0, 0xC000);
        _source.ProgramBar(3, 1, 0xFEB00000);
        _source.ConfigWrite(3, 0, 0x3C, 1, 11);
        _source.ConfigWrite(3, 0, 0x80, 4, 0xCAFEF00D);
        _source.SetCommand(3, 0x0007);
        TestBoard.CopyState(from, to);
        for (var register = 0; register < 0x100; register += 4)
            Assert.Equal(_source.ConfigRead(3, 0, register, 4), _target.ConfigRead(3, 0, register, 4));
        Assert.Equal("test-bar0", _target.Io.Find(0xC000)!.Name);
        Assert.Equal("test-bar1", _target.Memory.Find(0xFEB00000)!.Region.Name);
        Assert.Equal("0000:00:03.0/test-pci", from.SectionName);
    }

    [Fact]
    public void Asserted_intx_round_trips_to_the_isa_irq()
    {
        var from = Plug(_source);
        var to = Plug(_target);
        _target.Host.SetPirqRoute(2, 11);
        from.Raise();
        TestBoard.CopyState(from, to);
        Assert.True(to.IrqAsserted);
        Assert.True(_target.Board.Irq(11).Level);
        Assert.Equal(0x08u, _target.ConfigRead(3, 0, 0x06, 2) & 0x08);
        to.Lower();
        Assert.False(_target.Board.Irq(11).Level);
    }

    [Fact]
    public void Pirq_routing_round_trips_with_the_isa_bridge()
    {
        var device = Plug(_target);
        device.Raise();
        _source.Host.SetPirqRoute(2, 10);
        _source.Io.Write(0xCF9, 1, 0x02);
        TestBoard.CopyState(_source.Host.Find(1, 0)!, _target.Host.Find(1, 0)!);
        Assert.Equal(10, _target.Host.GetPirqRoute(2));
        Assert.True(_target.Board.Irq(10).Level);
        Assert.Equal(0x02u, _target.Io.Read(0xCF9, 1));
    }

    [Fact]
    public void State_of_another_device_type_is_refused()
    {
        var from = _source.Host.Find(0, 0)!;
        var to = Plug(_target);
        var e = Assert.Throws<InvalidDataException>(() => TestBoard.CopyState(from, to));
        Assert.Contains("0000:00:03.0/test-pci", e.Message);
        Assert.Equal(0x11E81234u, _target.ConfigRead(3, 0, 0x00, 4));
    }

    [Fact]
    public void Unknown_version_is_refused()
    {
        var device = Plug(_target);
        using var reader = new BinaryReader(new MemoryStream(new byte[300]));
        var e = Assert.Throws<InvalidDataException>(() => device.LoadState(reader, 2));
        Assert.Contains("test-pci", e.Message);
    }

    private static TestPciDevice Plug(PciTestBoard board)
    {
        var device = new TestPciDevice { Bars = [(0, 0x20, PciBarType.Io), (1, 0x1000, PciBarType.Memory)] };
        board.Host.Plug(device, 3);
        return device;
    }
}
