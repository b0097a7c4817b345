using Qmp.Machine.Devices.Pc;
using Qmp.Machine.Devices.Pci;

namespace Qmp.Machine.Tests.Devices.Pci;

public sealed class PciBarTests : IDisposable
{
    private const int Slot = 3;
    private const int Io = 0x01, Mem = 0x02;

    private readonly PciTestBoard _pci = new();
    private readonly TestPciDevice _device = new()
    {
        Bars =
        [
            (0, 0x20, PciBarType.Io),
            (1, 0x1000, PciBarType.Memory),
            (2, 0x4000, PciBarType.Memory64 | PciBarType.Prefetchable),
        ],
    };

    public PciBarTests() => _pci.Host.Plug(_device, Slot);

    public void Dispose() => _pci.Dispose();

    [Fact]
    public void Sizing_reads_back_the_size_mask_with_the_type_bits()
    {
        Assert.Equal(0x00000001u, _pci.ConfigRead(Slot, 0, 0x10, 4));
        Assert.Equal(0x0000000Cu, _pci.ConfigRead(Slot, 0, 0x18, 4));
        Assert.Equal(0xFFFFFFE1u, _pci.SizeBar(Slot, 0));
        Assert.Equal(0xFFFFF000u, _pci.SizeBar(Slot, 1));
        Assert.Equal(0xFFFFC00Cu, _pci.SizeBar(Slot, 2));
        Assert.Equal(0xFFFFFFFFu, _pci.SizeBar(Slot, 3));
        Assert.Equal(0x00000000u, _pci.SizeBar(Slot, 4));
    }

    [Fact]
    public void Memory_bar_maps_while_memory_decoding_is_on()
    {
        _pci.ProgramBar(Slot, 1, 0xFEB00000);
        Assert.Null(_pci.Memory.Find(0xFEB00000));
        _pci.SetCommand(Slot, Mem);
        Assert.Equal("test-bar1", _pci.Memory.Find(0xFEB00FFF)!.Region.Name);
        Assert.Equal(0xBA01UL, _pci.Memory.Read(0xFEB00010, 4));
        _pci.Memory.Write(0xFEB00020, 4, 0x55);
        Assert.Equal([(0x20UL, 0x55UL)], _device.Handlers[1].Writes);
        _pci.SetCommand(Slot, 0);
        Assert.Null(_pci.Memory.Find(0xFEB00000));
    }

    [Fact]
    public void Io_bar_maps_into_port_space_while_io_decoding_is_on()
    {
        _pci.ProgramBar(Slot, 0, 0xC000);
        _pci.SetCommand(Slot, Mem);
        Assert.Null(_pci.Io.Find(0xC000));
        _pci.SetCommand(Slot, Io);
        Assert.Equal("test-bar0", _pci.Io.Find(0xC01F)!.Name);
        Assert.Null(_pci.Io.Find(0xC020));
        Assert.Equal(0xBA00u, _pci.Io.Read(0xC004, 2));
        _pci.SetCommand(Slot, 0);
        Assert.Null(_pci.Io.Find(0xC000));
    }

    [Fact]
    public void Reprogramming_a_bar_moves_its_mapping()
    {
        _pci.ProgramBar(Slot, 1, 0xFEB00000);
        _pci.SetCommand(Slot, Mem);
        _pci.ProgramBar(Slot, 1, 0xFEC00000);
        Assert.Null(_pci.Memory.Find(0xFEB00000));
        Assert.Equal("test-bar1", _pci.Memory.Find(0xFEC00000)!.Region.Name);
    }

    [Fact]
    public void Sixty_four_bit_bar_maps_above_4_gib()
    {
        _pci.ProgramBar(Slot, 2, 0x8_0000_0000, is64: true);
        _pci.SetCommand(Slot, Mem);
        Assert.Equal("test-bar2", _pci.Memory.Find(0x8_0000_3FFF)!.Region.Name);
        Assert.Equal(0x0000000Cu, _pci.ConfigRead(Slot, 0, 0x18, 4));
        Assert.Equal(0x00000008u, _pci.ConfigRead(Slot, 0, 0x1C, 4));
    }

    [Fact]
    public void Unusable_addresses_leave_the_bar_unmapped_as_in_qemu()
    {
        _pci.SetCommand(Slot, Io | Mem);
        // Address 0, and a 32-bit BAR whose last byte is 0xFFFFFFFF, do not decode.
        _pci.ProgramBar(Slot, 1, 0);
        _pci.ProgramBar(Slot, 0, 0);
        Assert.All(Regions(), r => Assert.Equal(PciMemoryRegion.UnmappedAddress, r.Address));
        _pci.ProgramBar(Slot, 1, 0xFFFFF000);
        Assert.Null(_pci.Memory.Find(0xFFFFF000));
        Assert.Equal(PciMemoryRegion.UnmappedAddress, Regions()[1].Address);
    }

    [Fact]
    public void Sizing_with_decoding_on_never_maps_a_64_bit_bar_at_all_ones()
    {
        _pci.ProgramBar(Slot, 2, 0xFE000000, is64: true);
        _pci.SetCommand(Slot, Mem);
        _pci.SizeBar(Slot, 2);
        _pci.SizeBar(Slot, 3);
        Assert.Null(_pci.Memory.Find(0xFE000000));
        Assert.Equal(PciMemoryRegion.UnmappedAddress, Regions()[2].Address);
    }

    [Fact]
    public void Io_bar_above_64_kib_decodes_but_reaches_no_port()
    {
        _pci.ProgramBar(Slot, 0, 0x10000);
        _pci.SetCommand(Slot, Io);
        Assert.Equal(0x10000, Regions()[0].Address);
        Assert.Null(_pci.Io.Find(0x0000));
    }

    [Fact]
    public void Bar_over_a_taken_range_stays_unmapped_until_the_range_frees()
    {
        var other = new TestPciDevice { Bars = [(1, 0x1000, PciBarType.Memory)] };
        _pci.Host.Plug(other, 4);
        _pci.ProgramBar(Slot, 1, 0xFEB00000);
        _pci.SetCommand(Slot, Mem);
        _pci.ProgramBar(4, 1, 0xFEB00000);
        _pci.SetCommand(4, Mem);
        Assert.Equal(0xBA01UL, _pci.Memory.Read(0xFEB00000, 4));
        Assert.Same(_device.Handlers[1], _pci.Memory.Find(0xFEB00000)!.Region.Handler);
        // query-pci reports what the BAR decodes, mapped or not.
        Assert.Equal(0xFEB00000, _pci.Host.QueryPci().Devices.Single(d => d.Slot == 4).Regions[0].Address);
        _pci.ProgramBar(Slot, 1, 0xFEC00000);
        Assert.Same(other.Handlers[1], _pci.Memory.Find(0xFEB00000)!.Region.Handler);
    }

    [Fact]
    public void Io_bar_over_an_isa_device_waits_for_the_ports()
    {
        var uart = _pci.Board.Realize(new Uart16550 { Index = 0 });
        _pci.ProgramBar(Slot, 0, 0x3E0);
        _pci.SetCommand(Slot, Io);
        Assert.Equal("serial", _pci.Io.Find(0x3F8)!.Name);
        Assert.Null(_pci.Io.Find(0x3E0));
        uart.Unrealize();
        _pci.ProgramBar(Slot, 0, 0xC000);
        _pci.ProgramBar(Slot, 0, 0x3E0);
        Assert.Equal("test-bar0", _pci.Io.Find(0x3F8)!.Name);
    }

    [Fact]
    public void Unplug_unmaps_every_bar()
    {
        _pci.ProgramBar(Slot, 0, 0xC000);
        _pci.ProgramBar(Slot, 1, 0xFEB00000);
        _pci.ProgramBar(Slot, 2, 0xFE000000, is64: true);
        _pci.SetCommand(Slot, Io | Mem);
        _pci.Host.Unplug(_device);
        Assert.Null(_pci.Io.Find(0xC000));
        Assert.Null(_pci.Memory.Find(0xFEB00000));
        Assert.Null(_pci.Memory.Find(0xFE000000));
        Assert.Equal(0xFFFFFFFFu, _pci.ConfigRead(Slot, 0, 0x00, 4));
    }

    [Fact]
    public void Reset_unmaps_bars_and_clears_their_addresses_and_the_command()
    {
        _pci.ProgramBar(Slot, 1, 0xFEB00000);
        _pci.ConfigWrite(Slot, 0, 0x3C, 1, 11);
        _pci.SetCommand(Slot, Mem | 0x04);
        _pci.Host.Reset();
        Assert.Null(_pci.Memory.Find(0xFEB00000));
        Assert.Equal(0u, _pci.ConfigRead(Slot, 0, 0x04, 2));
        Assert.Equal(0u, _pci.ConfigRead(Slot, 0, 0x14, 4));
        Assert.Equal(0u, _pci.ConfigRead(Slot, 0, 0x3C, 1));
        Assert.Equal(2, _device.Resets);
    }

    private IReadOnlyList<PciMemoryRegion> Regions() => _pci.Host.QueryPci().Devices.Single(d => d.Slot == Slot).Regions;
}
