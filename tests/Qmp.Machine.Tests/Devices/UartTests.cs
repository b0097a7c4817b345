using Qmp.Machine.Devices.Pc;

namespace Qmp.Machine.Tests.Devices;

public sealed class UartTests
{
    private const ushort Base = 0x3F8;
    private const ushort Rbr = Base, Ier = Base + 1, Iir = Base + 2, Fcr = Base + 2, Lcr = Base + 3;
    private const ushort Mcr = Base + 4, Lsr = Base + 5, Msr = Base + 6, Scr = Base + 7;

    private readonly TestBoard _board = new();
    private readonly TestCharBackend _backend = new();
    private readonly Uart16550 _uart;

    public UartTests() => _uart = _board.Realize(new Uart16550 { Index = 0, Backend = _backend });

    private IrqProbe Irq4 => _board.Irq(4);

    [Fact]
    public void Registers_have_their_reset_values()
    {
        Assert.Equal(0x60, _board.In(Lsr));
        Assert.Equal(0x01, _board.In(Iir));
        Assert.Equal(0xB0, _board.In(Msr));
        Assert.Equal(0x08, _board.In(Mcr));
        Assert.Equal(0x00, _board.In(Ier));
        Assert.Equal(0x00, _board.In(Lcr));
    }

    [Fact]
    public void Index_picks_the_isa_base_and_irq()
    {
        var board = new TestBoard();
        var com2 = board.Realize(new Uart16550 { Index = 1 });
        Assert.Equal(0x2F8, com2.EffectiveIoBase);
        Assert.Equal(3, com2.EffectiveIrq);
        Assert.Equal("serial", board.Io.Find(0x2FF)!.Name);
        var com4 = board.Realize(new Uart16550 { Index = 3 });
        Assert.Equal(0x2E8, com4.EffectiveIoBase);
    }

    [Fact]
    public void Io_base_and_irq_override_the_index()
    {
        var board = new TestBoard();
        var uart = board.Realize(new Uart16550 { Index = 0, IoBase = 0x3E8, Irq = 5 });
        board.Out(0x3E9, 0x02);
        Assert.True(board.Irq(5).Level);
        Assert.False(board.Irq(4).Level);
        Assert.Equal(0x3E8, uart.EffectiveIoBase);
    }

    [Fact]
    public void Transmitted_byte_goes_to_the_backend_and_thr_and_temt_are_empty_again()
    {
        _board.Out(Rbr, (byte)'h');
        _board.Out(Rbr, (byte)'i');
        Assert.Equal("hi"u8.ToArray(), _backend.Output);
        Assert.Equal(0x60, _board.In(Lsr) & 0x60);
    }

    [Fact]
    public void Without_a_backend_output_is_dropped()
    {
        var board = new TestBoard();
        board.Realize(new Uart16550 { Index = 1 });
        board.Out(0x2F8, 0x41);
        Assert.Equal(0x60, board.In(0x2FD) & 0x60);
    }

    [Fact]
    public void Thre_interrupt_fires_when_enabled_with_thr_empty_and_reading_iir_clears_it()
    {
        _board.Out(Ier, 0x02);
        Assert.True(Irq4.Level);
        Assert.Equal(0x02, _board.In(Iir));
        Assert.False(Irq4.Level);
        Assert.Equal(0x01, _board.In(Iir));
    }

    [Fact]
    public void Thre_interrupt_fires_when_transmitter_empties()
    {
        _board.Out(Ier, 0x02);
        _board.In(Iir);
        var rises = Irq4.Rises;
        _board.Out(Rbr, 0x41);
        Assert.Equal(rises + 1, Irq4.Rises);
        Assert.Equal(0x02, _board.In(Iir));
    }

    [Fact]
    public void Disabling_the_thre_interrupt_withdraws_it()
    {
        _board.Out(Ier, 0x02);
        _board.Out(Ier, 0x00);
        Assert.False(Irq4.Level);
        Assert.Equal(0x01, _board.In(Iir));
    }

    [Fact]
    public void Received_byte_sets_data_ready_until_read()
    {
        Assert.Equal(1, _backend.Send(0x55));
        Assert.Equal(0x01, _board.In(Lsr) & 0x01);
        Assert.Equal(0x55, _board.In(Rbr));
        Assert.Equal(0x00, _board.In(Lsr) & 0x01);
    }

    [Fact]
    public void Without_fifo_the_backend_may_send_one_byte_at_a_time()
    {
        Assert.Equal(1, _backend.CanReceive!());
        _backend.Send(0x31);
        Assert.Equal(0, _backend.CanReceive!());
        Assert.Equal(0, _backend.Send(0x32));
    }

    [Fact]
    public void Received_data_interrupt_is_raised_until_rbr_is_read()
    {
        _board.Out(Ier, 0x01);
        _backend.Send(0x41);
        Assert.True(Irq4.Level);
        Assert.Equal(0x04, _board.In(Iir));
        _board.In(Rbr);
        Assert.False(Irq4.Level);
        Assert.Equal(0x01, _board.In(Iir));
    }

    [Fact]
    public void Second_byte_before_the_first_is_read_is_an_overrun_cleared_by_reading_lsr()
    {
        _backend.Force(0x31, 0x32);
        Assert.Equal(0x03, _board.In(Lsr) & 0x03);
        Assert.Equal(0x01, _board.In(Lsr) & 0x03);
        Assert.Equal(0x32, _board.In(Rbr));
    }

    [Fact]
    public void Fifo_enable_is_reported_in_iir()
    {
        _board.Out(Fcr, 0x07);
        Assert.Equal(0xC1, _board.In(Iir));
        _board.Out(Fcr, 0x00);
        Assert.Equal(0x01, _board.In(Iir));
    }

    [Fact]
    public void Fifo_interrupts_at_the_trigger_level()
    {
        _board.Out(Fcr, 0x87);  // trigger level 8
        _board.Out(Ier, 0x01);
        Assert.Equal(7, _backend.Send(1, 2, 3, 4, 5, 6, 7));
        Assert.False(Irq4.Level);
        _backend.Send(8);
        Assert.True(Irq4.Level);
        Assert.Equal(0xC4, _board.In(Iir));
        for (var i = 1; i <= 8; i++)
            Assert.Equal(i, _board.In(Rbr));
        Assert.Equal(0x00, _board.In(Lsr) & 0x01);
        Assert.False(Irq4.Level);
    }

    [Fact]
    public void Fifo_advertises_space_up_to_the_trigger_level_then_a_byte_at_a_time()
    {
        _board.Out(Fcr, 0x47);  // trigger level 4
        Assert.Equal(4, _backend.CanReceive!());
        _backend.Force(1, 2, 3, 4, 5);
        Assert.Equal(1, _backend.CanReceive!());
        _backend.Force(new byte[11]);
        Assert.Equal(0, _backend.CanReceive!());
    }

    [Fact]
    public void Fifo_below_trigger_level_raises_character_timeout_after_four_characters()
    {
        _board.Out(Lcr, 0x03);  // 8N1: 10 bits
        _board.Out(Fcr, 0xC7);  // trigger level 14
        _board.Out(Ier, 0x01);
        _backend.Force(0x41, 0x42);
        Assert.False(Irq4.Level);
        // At the reset divisor (9600 baud) a character takes 1.04 ms.
        _board.Clock.Advance(4 * 1_041_666 - 1_000);
        Assert.False(Irq4.Level);
        _board.Clock.Advance(2_000);
        Assert.True(Irq4.Level);
        Assert.Equal(0xCC, _board.In(Iir));
        Assert.Equal(0x41, _board.In(Rbr));
        Assert.False(Irq4.Level);
    }

    [Fact]
    public void Fifo_overrun_keeps_the_first_sixteen_bytes()
    {
        _board.Out(Fcr, 0x01);
        _backend.Force([.. Enumerable.Range(0, 17).Select(i => (byte)i)]);
        Assert.Equal(0x03, _board.In(Lsr) & 0x03);
        for (var i = 0; i < 16; i++)
            Assert.Equal(i, _board.In(Rbr));
        Assert.Equal(0x00, _board.In(Lsr) & 0x01);
    }

    [Fact]
    public void Fcr_receive_reset_empties_the_fifo()
    {
        _board.Out(Fcr, 0x01);
        _backend.Force(1, 2, 3);
        _board.Out(Fcr, 0x03);
        Assert.Equal(0x00, _board.In(Lsr) & 0x01);
    }

    [Fact]
    public void Interrupt_identification_follows_the_datasheet_priorities()
    {
        _board.Out(Ier, 0x0F);
        _board.Out(Mcr, 0x10);           // loopback
        _board.In(Msr);
        _board.Out(Mcr, 0x13);           // raise DTR and RTS: delta DSR and CTS
        _board.Out(Rbr, 0x61);           // looped back: data ready
        _board.Out(Rbr, 0x62);           // and overrun
        Assert.Equal(0x06, _board.In(Iir) & 0x0F);
        _board.In(Lsr);
        Assert.Equal(0x04, _board.In(Iir) & 0x0F);
        _board.In(Rbr);
        Assert.Equal(0x02, _board.In(Iir) & 0x0F);
        Assert.Equal(0x00, _board.In(Iir) & 0x0F);
        Assert.Equal(0x33, _board.In(Msr));
        Assert.Equal(0x01, _board.In(Iir) & 0x0F);
        Assert.False(Irq4.Level);
    }

    [Fact]
    public void Loopback_returns_transmitted_bytes_instead_of_sending_them()
    {
        _board.Out(Mcr, 0x10);
        _board.Out(Rbr, 0x5A);
        Assert.Empty(_backend.Output);
        Assert.Equal(0x01, _board.In(Lsr) & 0x01);
        Assert.Equal(0x5A, _board.In(Rbr));
        Assert.Equal(0, _backend.CanReceive!());
    }

    [Fact]
    public void Loopback_connects_modem_outputs_to_inputs()
    {
        _board.Out(Mcr, 0x1A);  // the probe Linux uses: OUT2 and RTS must read back as DCD and CTS
        Assert.Equal(0x90, _board.In(Msr) & 0xF0);
        _board.Out(Mcr, 0x1F);
        Assert.Equal(0xF0, _board.In(Msr) & 0xF0);
        _board.Out(Mcr, 0x08);
        Assert.Equal(0xB0, _board.In(Msr));
    }

    [Fact]
    public void Ring_indicator_delta_reports_only_the_trailing_edge()
    {
        _board.Out(Mcr, 0x10);
        _board.In(Msr);
        _board.Out(Mcr, 0x14);
        Assert.Equal(0x40, _board.In(Msr));
        _board.Out(Mcr, 0x10);
        Assert.Equal(0x04, _board.In(Msr));
    }

    [Fact]
    public void Divisor_latch_is_reached_with_dlab_set()
    {
        _board.Out(Lcr, 0x83);
        _board.Out(Rbr, 0x01);
        _board.Out(Ier, 0x00);
        Assert.Equal(0x01, _board.In(Rbr));
        Assert.Equal(0x00, _board.In(Ier));
        _board.Out(Lcr, 0x03);
        Assert.Empty(_backend.Output);
        Assert.Equal(0x03, _board.In(Lcr));
    }

    [Fact]
    public void Scratch_register_keeps_its_value()
    {
        _board.Out(Scr, 0xA5);
        Assert.Equal(0xA5, _board.In(Scr));
    }

    [Fact]
    public void State_round_trip_keeps_registers_and_fifo()
    {
        _board.Out(Lcr, 0x83);
        _board.Out(Rbr, 0x03);
        _board.Out(Lcr, 0x1B);
        _board.Out(Fcr, 0x81);
        _board.Out(Ier, 0x05);
        _board.Out(Scr, 0x42);
        _backend.Force(7, 8, 9);

        var other = new TestBoard();
        other.Clock.RunUntil(_board.Clock.Now);
        var copy = other.Realize(new Uart16550 { Index = 0 });
        TestBoard.CopyState(_uart, copy);
        Assert.Equal(1, other.Clock.ArmedTimers);  // the character timeout moved too

        for (ushort offset = 1; offset < 8; offset++)
        {
            if (offset is 2 or 5)
                continue;
            Assert.Equal(_board.In((ushort)(Base + offset)), other.In((ushort)(Base + offset)));
        }
        Assert.Equal(_board.In(Iir), other.In(Iir));
        Assert.Equal(_board.In(Lsr), other.In(Lsr));
        other.Out(Lcr, 0x9B);
        Assert.Equal(0x03, other.In(Rbr));
        other.Out(Lcr, 0x1B);
        Assert.Equal(7, other.In(Rbr));
        Assert.Equal(8, other.In(Rbr));
        Assert.Equal(9, other.In(Rbr));
        Assert.Equal(0x00, other.In(Lsr) & 0x01);
    }
}
