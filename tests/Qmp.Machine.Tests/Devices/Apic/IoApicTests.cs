using Qmp.Machine.Devices;
using Qmp.Machine.Devices.Apic;
using Qmp.Memory;

namespace Qmp.Machine.Tests.Devices.Apic;

public sealed class IoApicTests
{
    private readonly FakeInterruptSource _pic = new(0x08);
    private readonly ApicHarness _h;
    private readonly IoApic _ioapic;

    public IoApicTests()
    {
        _h = new ApicHarness(_pic);
        _h.Enable();
        _ioapic = _h.Board.Realize(new IoApic { LocalApic = _h.Apic });
        _h.Apic.EndOfInterruptBroadcast += _ioapic.EndOfInterrupt;
    }

    private LocalApic Apic => _h.Apic;

    private AddressSpace Memory => _h.Board.Context.Memory;

    private uint ReadRegister(int index)
    {
        Memory.Write(IoApic.DefaultBaseAddress, 4, (uint)index);
        return (uint)Memory.Read(IoApic.DefaultBaseAddress + 0x10, 4);
    }

    private void WriteRegister(int index, uint value)
    {
        Memory.Write(IoApic.DefaultBaseAddress, 4, (uint)index);
        Memory.Write(IoApic.DefaultBaseAddress + 0x10, 4, value);
    }

    private void Redirect(int pin, uint low, byte destination = 0)
    {
        WriteRegister(0x11 + 2 * pin, (uint)destination << 24);
        WriteRegister(0x10 + 2 * pin, low);
    }

    private uint Entry(int pin) => ReadRegister(0x10 + 2 * pin);

    [Fact]
    public void Registers_hold_their_power_on_values()
    {
        Assert.Equal(0u, ReadRegister(0x00));
        Assert.Equal(0x00170020u, ReadRegister(0x01));
        Assert.Equal(0u, ReadRegister(0x02));
        for (var pin = 0; pin < IoApic.PinCount; pin++)
        {
            Assert.Equal(0x10000u, Entry(pin));
            Assert.Equal(0u, ReadRegister(0x11 + 2 * pin));
        }
        Assert.Equal(0u, ReadRegister(0x40));
        Memory.Write(IoApic.DefaultBaseAddress, 4, 0x13);
        Assert.Equal(0x13UL, Memory.Read(IoApic.DefaultBaseAddress, 4));
    }

    [Fact]
    public void Id_keeps_bits_24_to_27_and_arbitration_reads_the_same_id()
    {
        WriteRegister(0x00, 0xFFFFFFFF);
        Assert.Equal(0x0F000000u, ReadRegister(0x00));
        Assert.Equal(0x0F000000u, ReadRegister(0x02));
        WriteRegister(0x01, 0);
        Assert.Equal(0x00170020u, ReadRegister(0x01));
    }

    [Fact]
    public void Window_accesses_narrower_than_32_bits_read_0_and_write_nothing()
    {
        Redirect(3, 0x33);
        Memory.Write(IoApic.DefaultBaseAddress, 4, 0x16);
        Assert.Equal(0UL, Memory.Read(IoApic.DefaultBaseAddress + 0x10, 2));
        Memory.Write(IoApic.DefaultBaseAddress + 0x10, 1, 0x44);
        Assert.Equal(0x33u, Entry(3));
    }

    [Fact]
    public void Edge_triggered_pin_delivers_its_vector_on_each_rising_edge_only()
    {
        Redirect(4, 0x34);
        var line = _ioapic.Input(4);
        line.Raise();
        Assert.True(_h.InIrr(0x34));
        Assert.False(_h.InTmr(0x34));
        Assert.Equal(0x34, Apic.Acknowledge());
        _h.Eoi();
        line.Raise();
        Assert.False(Apic.IsPending);
        line.Lower();
        line.Raise();
        Assert.Equal(0x34, Apic.Acknowledge());
        Assert.Empty(_h.Eois);
    }

    [Fact]
    public void Edge_arriving_while_masked_is_lost()
    {
        Redirect(4, 0x10034);
        _ioapic.Input(4).Raise();
        Redirect(4, 0x34);
        Assert.False(Apic.IsPending);
        Assert.False(_h.InIrr(0x34));
    }

    [Fact]
    public void Level_triggered_pin_holds_remote_irr_until_the_eoi_then_delivers_again_while_asserted()
    {
        Redirect(9, 0x8039);
        var line = _ioapic.Input(9);
        line.Raise();
        Assert.True(_h.InIrr(0x39));
        Assert.True(_h.InTmr(0x39));
        Assert.Equal(0xC039u, Entry(9));
        Assert.Equal(0x39, Apic.Acknowledge());
        line.Raise();
        Assert.False(Apic.IsPending);
        _h.Eoi();
        Assert.Equal([0x39], _h.Eois);
        Assert.True(_h.InIrr(0x39));
        Assert.Equal(0xC039u, Entry(9));
        line.Lower();
        Assert.Equal(0x39, Apic.Acknowledge());
        _h.Eoi();
        Assert.Equal(0x8039u, Entry(9));
        Assert.False(Apic.IsPending);
    }

    [Fact]
    public void Level_asserted_while_masked_is_delivered_when_unmasked()
    {
        Redirect(10, 0x1803A);
        _ioapic.Input(10).Raise();
        Assert.False(Apic.IsPending);
        Assert.Equal(0x1803Au, Entry(10));
        Redirect(10, 0x803A);
        Assert.Equal(0x3A, Apic.Acknowledge());
        Assert.Equal(0xC03Au, Entry(10));
    }

    [Fact]
    public void Remote_irr_and_delivery_status_are_read_only_and_edge_entries_clear_remote_irr()
    {
        Redirect(5, 0x5035);
        Assert.Equal(0x0035u, Entry(5));
        Redirect(5, 0x8035);
        _ioapic.Input(5).Raise();
        Assert.Equal(0xC035u, Entry(5));
        Redirect(5, 0x8035);
        Assert.Equal(0xC035u, Entry(5));
        Redirect(5, 0x0035);
        Assert.Equal(0x0035u, Entry(5));
    }

    [Fact]
    public void Destination_selects_this_apic_by_physical_id_logical_match_or_broadcast()
    {
        var line = _ioapic.Input(6);
        Redirect(6, 0x36, destination: 1);
        line.Pulse();
        Assert.False(Apic.IsPending);
        Redirect(6, 0x36, destination: 0xFF);
        line.Pulse();
        Assert.Equal(0x36, Apic.Acknowledge());
        _h.Eoi();
        _h.Write(0xD0, 0x01000000);
        Redirect(6, 0x836, destination: 0x01);
        line.Pulse();
        Assert.Equal(0x36, Apic.Acknowledge());
        _h.Eoi();
        Redirect(6, 0x836, destination: 0x02);
        line.Pulse();
        Assert.False(Apic.IsPending);
    }

    [Fact]
    public void Nmi_entry_requests_an_nmi()
    {
        Redirect(7, 0x400);
        _ioapic.Input(7).Pulse();
        Assert.Equal(1, _h.Nmis);
        Assert.False(Apic.IsPending);
    }

    [Fact]
    public void ExtInt_entry_hands_the_acknowledge_cycle_to_the_pic()
    {
        _h.Write(0x350, 0x10700);  // LINT0 masked: the PIC no longer reaches INTR by itself
        _pic.IsPending = true;
        Assert.False(Apic.IsPending);
        Redirect(0, 0x700);
        _ioapic.Input(0).Pulse();
        Assert.True(Apic.IsPending);
        Assert.Equal(0x08, Apic.Acknowledge());
        Assert.Equal(1, _pic.Acknowledgements);
        _pic.IsPending = true;
        Assert.False(Apic.IsPending);
    }

    [Fact]
    public void Eoi_register_ends_a_level_interrupt_directly()
    {
        Redirect(11, 0x1803B);
        _ioapic.Input(11).Raise();
        Redirect(11, 0x803B);
        Assert.Equal(0xC03Bu, Entry(11));
        Apic.Acknowledge();
        _ioapic.Input(11).Lower();
        Memory.Write(IoApic.DefaultBaseAddress + 0x40, 4, 0x3B);
        Assert.Equal(0x803Bu, Entry(11));
    }

    [Fact]
    public void Version_0x11_reports_itself_and_has_no_eoi_register()
    {
        var h = new ApicHarness();
        h.Enable();
        var ioapic = h.Board.Realize(new IoApic { Version = 0x11, LocalApic = h.Apic });
        var memory = h.Board.Context.Memory;
        memory.Write(IoApic.DefaultBaseAddress, 4, 1);
        Assert.Equal(0x00170011UL, memory.Read(IoApic.DefaultBaseAddress + 0x10, 4));
        memory.Write(IoApic.DefaultBaseAddress, 4, 0x10);
        memory.Write(IoApic.DefaultBaseAddress + 0x10, 4, 0x8040);
        ioapic.Input(0).Raise();
        memory.Write(IoApic.DefaultBaseAddress + 0x40, 4, 0x40);
        Assert.Equal(0xC040UL, memory.Read(IoApic.DefaultBaseAddress + 0x10, 4));
    }

    [Fact]
    public void Unsupported_version_is_refused_at_realize_with_nothing_mapped()
    {
        var board = new TestBoard();
        var e = Assert.Throws<DeviceRealizeException>(() => board.Realize(new IoApic { Version = 0x12 }));
        Assert.Contains("0x11 or 0x20", e.Message);
        Assert.Null(board.Context.Memory.Find(IoApic.DefaultBaseAddress));
    }

    [Fact]
    public void Without_a_local_apic_messages_are_dropped_and_pins_stop_at_23()
    {
        var board = new TestBoard();
        var ioapic = board.Realize(new IoApic());
        board.Context.Memory.Write(IoApic.DefaultBaseAddress, 4, 0x10);
        board.Context.Memory.Write(IoApic.DefaultBaseAddress + 0x10, 4, 0x30);
        ioapic.Input(0).Pulse();
        Assert.Throws<ArgumentOutOfRangeException>(() => ioapic.Input(24));
    }

    [Fact]
    public void Reset_masks_every_entry_and_clears_the_selector_and_id()
    {
        WriteRegister(0x00, 0x03000000);
        Redirect(2, 0x8032, destination: 0xFF);
        _ioapic.Reset();
        Assert.Equal(0UL, Memory.Read(IoApic.DefaultBaseAddress, 4));
        Assert.Equal(0u, ReadRegister(0x00));
        Assert.Equal(0x10000u, Entry(2));
        Assert.Equal(0u, ReadRegister(0x15));
    }

    [Fact]
    public void State_round_trip_keeps_entries_selector_remote_irr_and_pin_levels()
    {
        WriteRegister(0x00, 0x02000000);
        Redirect(9, 0x8039);
        Redirect(4, 0x34, destination: 0xFF);
        _ioapic.Input(9).Raise();
        _ioapic.Input(4).Raise();
        Memory.Write(IoApic.DefaultBaseAddress, 4, 0x19);

        var other = new ApicHarness();
        other.Enable();
        var copy = other.Board.Realize(new IoApic { LocalApic = other.Apic });
        other.Apic.EndOfInterruptBroadcast += copy.EndOfInterrupt;
        TestBoard.CopyState(_ioapic, copy);
        var memory = other.Board.Context.Memory;
        Assert.Equal(0x19UL, memory.Read(IoApic.DefaultBaseAddress, 4));
        Assert.Equal(0xFF000000UL, memory.Read(IoApic.DefaultBaseAddress + 0x10, 4));
        memory.Write(IoApic.DefaultBaseAddress, 4, 0);
        Assert.Equal(0x02000000UL, memory.Read(IoApic.DefaultBaseAddress + 0x10, 4));
        memory.Write(IoApic.DefaultBaseAddress, 4, 0x22);
        Assert.Equal(0xC039UL, memory.Read(IoApic.DefaultBaseAddress + 0x10, 4));
        // Pin 4 is still high in the copy: no edge until it falls and rises.
        copy.Input(4).Raise();
        Assert.False(other.Apic.IsPending);
        // The level interrupt's EOI (vector 0x39) finds pin 9 still asserted and delivers it again.
        copy.EndOfInterrupt(0x39);
        Assert.True(other.InIrr(0x39));
    }
}
