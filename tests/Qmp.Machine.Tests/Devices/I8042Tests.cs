using Qmp.Machine.Devices.Pc;

namespace Qmp.Machine.Tests.Devices;

public sealed class I8042Tests
{
    private readonly TestBoard _board = new();
    private readonly I8042 _kbc;

    public I8042Tests() => _kbc = _board.Realize(new I8042());

    private byte Status => _board.In(0x64);

    private void Command(byte command) => _board.Out(0x64, command);

    [Fact]
    public void Status_after_reset_has_input_buffer_empty_and_no_output()
    {
        Assert.Equal(0x18, Status);
        Assert.Equal(0, Status & 0x03);
    }

    [Fact]
    public void Self_test_answers_0x55_and_sets_the_system_flag()
    {
        Command(0xAA);
        Assert.Equal(0x05, Status & 0x07);
        Assert.Equal(0x55, _board.In(0x60));
        Assert.Equal(0x04, Status & 0x07);
    }

    [Fact]
    public void Pulse_reset_command_requests_a_guest_reset()
    {
        Command(0xFE);
        Assert.Equal(["reset GuestReset"], _board.Control.Calls);
    }

    [Fact]
    public void Pulse_command_without_bit_0_does_not_reset()
    {
        Command(0xFF);
        Command(0xF1);
        Assert.Empty(_board.Control.Calls);
    }

    [Fact]
    public void Output_port_write_with_bit_0_clear_resets_and_bit_1_sets_a20()
    {
        var a20 = new List<bool>();
        _kbc.A20Changed += a20.Add;
        Command(0xD1);
        _board.Out(0x60, 0xCD);
        Assert.False(_kbc.A20Enabled);
        Assert.Empty(_board.Control.Calls);
        Command(0xD1);
        _board.Out(0x60, 0xCE);
        Assert.True(_kbc.A20Enabled);
        Assert.Equal(["reset GuestReset"], _board.Control.Calls);
        Assert.Equal([false, true], a20);
    }

    [Fact]
    public void Read_output_port_returns_reset_line_and_a20()
    {
        Command(0xD0);
        Assert.Equal(0xCF, _board.In(0x60));
        Command(0xDD);
        Command(0xD0);
        Assert.Equal(0xCD, _board.In(0x60));
    }

    [Fact]
    public void Command_byte_is_read_and_written_through_0x20_and_0x60()
    {
        Command(0x20);
        Assert.Equal(0x03, _board.In(0x60));
        Command(0x60);
        _board.Out(0x60, 0x65);
        Command(0x20);
        Assert.Equal(0x65, _board.In(0x60));
        Assert.Equal(0x04, Status & 0x04);
        Assert.Equal(0x65, _kbc.CommandByte);
    }

    [Fact]
    public void Controller_output_interrupts_on_irq1_unless_the_keyboard_is_disabled()
    {
        Command(0xAA);
        Assert.True(_board.Irq(1).Level);
        _board.In(0x60);
        Assert.False(_board.Irq(1).Level);
        Command(0xAD);
        Command(0xAA);
        Assert.False(_board.Irq(1).Level);
        Command(0xAE);
        Assert.True(_board.Irq(1).Level);
    }

    [Fact]
    public void Last_write_port_is_reported_in_status_bit_3()
    {
        _board.Out(0x60, 0xF4);
        Assert.Equal(0, Status & 0x08);
        Command(0xAE);
        Assert.Equal(0x08, Status & 0x08);
    }

    [Fact]
    public void Keyboard_reset_acknowledges_and_passes_its_self_test()
    {
        _board.Out(0x60, 0xFF);
        Assert.Equal(0xFA, _board.In(0x60));
        Assert.Equal(0xAA, _board.In(0x60));
        Assert.Equal(0, Status & 0x01);
    }

    [Fact]
    public void Each_queued_byte_gives_a_new_irq1_edge()
    {
        _board.Out(0x60, 0xF2);
        var rises = _board.Irq(1).Rises;
        _board.In(0x60);
        _board.In(0x60);
        Assert.Equal(rises + 2, _board.Irq(1).Rises);
        Assert.Equal(0x83, _board.In(0x60));
    }

    [Fact]
    public void Mouse_bytes_come_on_irq12_with_the_aux_flag()
    {
        Command(0xD4);
        _board.Out(0x60, 0xF2);
        Assert.Equal(0x21, Status & 0x21);
        Assert.True(_board.Irq(12).Level);
        Assert.Equal(0xFA, _board.In(0x60));
        Assert.Equal(0x00, _board.In(0x60));
        Assert.False(_board.Irq(12).Level);
    }

    [Fact]
    public void State_round_trip_keeps_command_byte_output_port_and_queue()
    {
        Command(0x60);
        _board.Out(0x60, 0x47);
        Command(0xDD);
        Command(0xAA);
        var other = new TestBoard();
        var copy = other.Realize(new I8042());
        TestBoard.CopyState(_kbc, copy);
        Assert.Equal(0x47, copy.CommandByte);
        Assert.False(copy.A20Enabled);
        Assert.Equal(_board.In(0x64), other.In(0x64));
        Assert.Equal(0x55, other.In(0x60));
    }
}
