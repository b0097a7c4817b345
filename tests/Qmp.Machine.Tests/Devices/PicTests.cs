using Qmp.Machine.Devices.Pc;

namespace Qmp.Machine.Tests.Devices;

public sealed class PicTests
{
    private readonly TestBoard _board = new(withPic: true);

    private Pic8259Pair Pic => _board.Pic!;

    public PicTests() => Initialize(masterIcw4: 0x01);

    // The BIOS sequence: ICW1 (edge, cascade, ICW4), ICW2 vector base, ICW3 wiring, ICW4 8086 mode.
    private void Initialize(byte masterIcw4)
    {
        _board.Out(0x20, 0x11);
        _board.Out(0x21, 0x20);
        _board.Out(0x21, 0x04);
        _board.Out(0x21, masterIcw4);
        _board.Out(0xA0, 0x11);
        _board.Out(0xA1, 0x28);
        _board.Out(0xA1, 0x02);
        _board.Out(0xA1, 0x01);
    }

    private void Edge(int irq) => Pic.Input(irq).Pulse();

    private void MasterEoi() => _board.Out(0x20, 0x20);

    [Fact]
    public void Initialization_clears_the_mask_and_sets_the_vector_base()
    {
        Assert.Equal(0, _board.In(0x21));
        Assert.Equal(0, _board.In(0xA1));
        Edge(1);
        Assert.True(Pic.IsPending);
        Assert.Equal(0x21, Pic.Acknowledge());
    }

    [Fact]
    public void Lower_numbered_request_wins_and_blocks_lower_priorities_until_eoi()
    {
        Edge(5);
        Edge(3);
        Assert.Equal(0x23, Pic.Acknowledge());
        Assert.Equal(0x08, Pic.MasterIsr);
        Assert.False(Pic.IsPending);
        MasterEoi();
        Assert.True(Pic.IsPending);
        Assert.Equal(0x25, Pic.Acknowledge());
    }

    [Fact]
    public void Higher_priority_request_nests_inside_a_lower_one_in_service()
    {
        Edge(5);
        Assert.Equal(0x25, Pic.Acknowledge());
        Edge(1);
        Assert.True(Pic.IsPending);
        Assert.Equal(0x21, Pic.Acknowledge());
        Assert.Equal(0x22, Pic.MasterIsr);
        // Non-specific EOI ends the highest-priority level in service first.
        MasterEoi();
        Assert.Equal(0x20, Pic.MasterIsr);
    }

    [Fact]
    public void Masked_request_stays_in_irr_and_is_delivered_once_unmasked()
    {
        _board.Out(0x21, 0x10);
        Edge(4);
        Assert.False(Pic.IsPending);
        _board.Out(0x20, 0x0A);
        Assert.Equal(0x10, _board.In(0x20));
        _board.Out(0x21, 0x00);
        Assert.True(Pic.IsPending);
        Assert.Equal(0x24, Pic.Acknowledge());
    }

    [Fact]
    public void Ocw3_selects_irr_or_isr_for_reads_of_the_command_port()
    {
        Edge(6);
        Edge(3);
        Pic.Acknowledge();
        _board.Out(0x20, 0x0B);
        Assert.Equal(0x08, _board.In(0x20));
        _board.Out(0x20, 0x0A);
        Assert.Equal(0x40, _board.In(0x20));
    }

    [Fact]
    public void Edge_triggered_input_held_high_requests_once()
    {
        Pic.Input(4).Raise();
        Assert.Equal(0x24, Pic.Acknowledge());
        MasterEoi();
        Assert.False(Pic.IsPending);
        Pic.Input(4).Lower();
        Pic.Input(4).Raise();
        Assert.True(Pic.IsPending);
    }

    [Fact]
    public void Level_triggered_input_from_elcr_requests_again_while_high()
    {
        _board.Out(0x4D0, 0x20);  // IRQ 5 level-triggered
        Assert.Equal(0x20, _board.In(0x4D0));
        Pic.Input(5).Raise();
        Assert.Equal(0x25, Pic.Acknowledge());
        MasterEoi();
        Assert.True(Pic.IsPending);
        Pic.Input(5).Lower();
        Assert.False(Pic.IsPending);
        Assert.Equal(0, Pic.MasterIrr);
    }

    [Fact]
    public void Level_triggered_slave_input_is_delivered_through_the_cascade()
    {
        _board.Out(0x4D1, 0x04);  // IRQ 10 level-triggered
        Pic.Input(10).Raise();
        Assert.Equal(0x2A, Pic.Acknowledge());
        _board.Out(0xA0, 0x20);
        MasterEoi();
        Assert.Equal(0x2A, Pic.Acknowledge());
    }

    [Fact]
    public void Elcr_bits_of_irq_0_1_2_8_and_13_cannot_be_set()
    {
        _board.Out(0x4D0, 0xFF);
        _board.Out(0x4D1, 0xFF);
        Assert.Equal(0xF8, _board.In(0x4D0));
        Assert.Equal(0xDE, _board.In(0x4D1));
    }

    [Fact]
    public void Request_removed_before_acknowledge_gives_spurious_irq7_without_in_service()
    {
        _board.Out(0x4D0, 0x08);  // IRQ 3 level-triggered
        Pic.Input(3).Raise();
        Assert.True(Pic.IsPending);
        Pic.Input(3).Lower();
        Assert.Equal(0x27, Pic.Acknowledge());
        Assert.Equal(0, Pic.MasterIsr);
    }

    [Fact]
    public void Spurious_request_on_the_slave_gives_irq15_and_sets_only_the_master_cascade_bit()
    {
        _board.Out(0x4D1, 0x02);  // IRQ 9 level-triggered
        Pic.Input(9).Raise();
        Pic.Input(9).Lower();
        Assert.True(Pic.IsPending);  // the master latched the cascade edge
        Assert.Equal(0x2F, Pic.Acknowledge());
        Assert.Equal(0x04, Pic.MasterIsr);
        Assert.Equal(0, Pic.SlaveIsr);
    }

    [Fact]
    public void Slave_requests_arrive_through_master_irq2_with_the_slave_vector()
    {
        Edge(12);
        Assert.True(Pic.IsPending);
        Assert.Equal(0x2C, Pic.Acknowledge());
        Assert.Equal(0x04, Pic.MasterIsr);
        Assert.Equal(0x10, Pic.SlaveIsr);
        _board.Out(0xA0, 0x20);
        MasterEoi();
        Assert.Equal(0, Pic.MasterIsr);
        Assert.Equal(0, Pic.SlaveIsr);
    }

    [Fact]
    public void Slave_priority_sits_between_master_irq1_and_irq3()
    {
        Edge(3);
        Edge(8);
        Assert.Equal(0x28, Pic.Acknowledge());
        Edge(1);
        Assert.Equal(0x21, Pic.Acknowledge());
    }

    [Fact]
    public void Auto_eoi_leaves_nothing_in_service()
    {
        Initialize(masterIcw4: 0x03);
        Edge(5);
        Assert.Equal(0x25, Pic.Acknowledge());
        Assert.Equal(0, Pic.MasterIsr);
    }

    [Fact]
    public void Specific_eoi_ends_the_named_level()
    {
        Edge(5);
        Pic.Acknowledge();
        Edge(3);
        Pic.Acknowledge();
        _board.Out(0x20, 0x65);
        Assert.Equal(0x08, Pic.MasterIsr);
    }

    [Fact]
    public void Rotate_on_nonspecific_eoi_makes_the_serviced_level_lowest()
    {
        Edge(3);
        Pic.Acknowledge();
        _board.Out(0x20, 0xA0);
        Edge(3);
        Edge(5);
        Assert.Equal(0x25, Pic.Acknowledge());
    }

    [Fact]
    public void Set_priority_command_picks_the_lowest_level()
    {
        _board.Out(0x20, 0xC4);  // IRQ 4 lowest, IRQ 5 highest
        Edge(0);
        Edge(6);
        Assert.Equal(0x26, Pic.Acknowledge());
    }

    [Fact]
    public void Poll_command_acknowledges_through_a_port_read()
    {
        Edge(6);
        _board.Out(0x20, 0x0C);
        Assert.Equal(0x86, _board.In(0x20));
        Assert.Equal(0x40, Pic.MasterIsr);
        _board.Out(0x20, 0x0C);
        Assert.Equal(0x00, _board.In(0x20));
    }

    [Fact]
    public void Special_mask_mode_lets_lower_levels_through_a_masked_in_service_level()
    {
        Edge(3);
        Pic.Acknowledge();
        _board.Out(0x21, 0x08);
        _board.Out(0x20, 0x68);
        Edge(5);
        Assert.True(Pic.IsPending);
        Assert.Equal(0x25, Pic.Acknowledge());
    }

    [Fact]
    public void Interrupt_requested_is_raised_when_intr_goes_high()
    {
        var raised = 0;
        Pic.InterruptRequested += () => raised++;
        Edge(4);
        Edge(6);
        Assert.Equal(1, raised);
        Pic.Acknowledge();
        MasterEoi();
        Assert.Equal(2, raised);  // IRQ 6 was waiting behind 4
    }

    [Fact]
    public void State_round_trip_preserves_requests_service_and_masks()
    {
        _board.Out(0x21, 0x80);
        _board.Out(0x4D1, 0x04);
        Edge(3);
        Pic.Acknowledge();
        Edge(12);
        Edge(7);

        var other = new TestBoard(withPic: true);
        TestBoard.CopyState(Pic, other.Pic!);

        Assert.Equal(Pic.MasterIsr, other.Pic!.MasterIsr);
        Assert.Equal(Pic.MasterIrr, other.Pic.MasterIrr);
        Assert.Equal(0x80, other.In(0x21));
        Assert.Equal(0x04, other.In(0x4D1));
        Assert.Equal(Pic.IsPending, other.Pic.IsPending);
        Assert.Equal(Pic.Acknowledge(), other.Pic.Acknowledge());
    }

    [Fact]
    public void Unknown_state_version_is_refused()
    {
        using var reader = new BinaryReader(new MemoryStream(new byte[64]));
        var e = Assert.Throws<InvalidDataException>(() => Pic.LoadState(reader, 2));
        Assert.Contains("i8259", e.Message);
    }
}
