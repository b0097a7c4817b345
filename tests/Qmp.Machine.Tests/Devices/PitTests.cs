using Qmp.Machine.Devices.Pc;

namespace Qmp.Machine.Tests.Devices;

public sealed class PitTests
{
    private readonly TestBoard _board = new();
    private readonly Pit8254 _pit;
    private readonly PcSpeaker _speaker;

    public PitTests()
    {
        _pit = _board.Realize(new Pit8254());
        _speaker = _board.Realize(new PcSpeaker { Pit = _pit });
    }

    private IrqProbe Irq0 => _board.Irq(0);

    // The first virtual time at which the 1.193182 MHz input clock has ticked `ticks` times.
    private static long Ns(long ticks) => (ticks * 1_000_000_000L + PitChannel.Frequency - 1) / PitChannel.Frequency;

    private void At(long ticks) => _board.Clock.RunUntil(Ns(ticks));

    private void Program(int channel, byte control, int count)
    {
        _board.Out(0x43, control);
        _board.Out((ushort)(0x40 + channel), (byte)count);
        _board.Out((ushort)(0x40 + channel), (byte)(count >> 8));
    }

    private int LatchedCount(int channel)
    {
        _board.Out(0x43, (byte)(channel << 6));
        return _board.In((ushort)(0x40 + channel)) | (_board.In((ushort)(0x40 + channel)) << 8);
    }

    private byte Status(int channel)
    {
        _board.Out(0x43, (byte)(0xE0 | (2 << channel)));
        return _board.In((ushort)(0x40 + channel));
    }

    [Fact]
    public void Reset_state_is_mode_3_counting_65536_on_channel_0()
    {
        Assert.Equal(3, _pit.GetMode(0));
        Assert.Equal(0x10000, _pit.GetInitialCount(0));
        var rises = Irq0.Rises;
        At(0x10000 * 3);
        Assert.Equal(rises + 3, Irq0.Rises);
    }

    [Fact]
    public void Mode_0_output_goes_high_at_terminal_count_and_stays()
    {
        Program(0, 0x30, 1000);
        Assert.False(Irq0.Level);
        var rises = Irq0.Rises;
        At(999);
        Assert.False(Irq0.Level);
        Assert.Equal(1, LatchedCount(0));
        At(1000);
        Assert.True(Irq0.Level);
        At(100_000);
        Assert.True(Irq0.Level);
        Assert.Equal(rises + 1, Irq0.Rises);
        Assert.Equal(0, _board.Clock.ArmedTimers);
    }

    [Fact]
    public void Mode_0_count_wraps_after_terminal_count()
    {
        Program(0, 0x30, 10);
        At(15);
        Assert.Equal(0xFFFB, LatchedCount(0));
    }

    [Fact]
    public void Latched_count_holds_while_time_passes_until_read()
    {
        Program(0, 0x30, 1000);
        At(250);
        _board.Out(0x43, 0x00);
        At(400);
        Assert.Equal(0xEE, _board.In(0x40));
        At(500);
        Assert.Equal(0x02, _board.In(0x40));
        // Latch consumed: reads follow the counter again.
        Assert.Equal(500 & 0xFF, _board.In(0x40));
    }

    [Fact]
    public void Second_latch_before_reading_is_ignored()
    {
        Program(0, 0x30, 1000);
        At(100);
        _board.Out(0x43, 0x00);
        At(200);
        Assert.Equal(900, LatchedCount(0));
    }

    [Fact]
    public void Mode_2_divides_the_clock_with_one_low_clock_per_period()
    {
        Program(0, 0x34, 100);
        var rises = Irq0.Rises;
        At(99);
        Assert.Equal(0x00, Status(0) & 0x80);
        At(100);
        Assert.Equal(0x80, Status(0) & 0x80);
        At(350);
        Assert.Equal(rises + 3, Irq0.Rises);
        Assert.True(Irq0.Level);
        Assert.Equal(50, LatchedCount(0));
    }

    [Fact]
    public void Mode_2_count_written_while_counting_loads_at_the_end_of_the_cycle()
    {
        Program(0, 0x34, 100);
        var rises = Irq0.Rises;
        At(30);
        _board.Out(0x40, 50);
        _board.Out(0x40, 0);
        Assert.Equal(0x40, Status(0) & 0x40);  // null count until loaded
        At(99);
        Assert.Equal(rises, Irq0.Rises);
        At(100);
        Assert.Equal(rises + 1, Irq0.Rises);
        Assert.Equal(0, Status(0) & 0x40);
        At(149);
        Assert.Equal(rises + 1, Irq0.Rises);
        At(150);
        Assert.Equal(rises + 2, Irq0.Rises);
    }

    [Fact]
    public void Mode_3_square_wave_is_high_for_the_first_half()
    {
        Program(0, 0x36, 100);
        var rises = Irq0.Rises;
        At(25);
        Assert.True(Irq0.Level);
        Assert.Equal(0x80, Status(0) & 0x80);
        At(75);
        Assert.False(Irq0.Level);
        Assert.Equal(0x00, Status(0) & 0x80);
        At(1000);
        Assert.Equal(rises + 10, Irq0.Rises);
    }

    [Fact]
    public void Mode_3_counts_down_by_two_in_each_half()
    {
        Program(0, 0x36, 100);
        At(10);
        Assert.Equal(80, LatchedCount(0));
        At(60);
        Assert.Equal(80, LatchedCount(0));
    }

    [Fact]
    public void Mode_3_odd_count_is_high_one_clock_longer()
    {
        Program(0, 0x36, 5);
        int[] expected = [5, 4, 2, 5, 2, 5];
        bool[] outs = [true, true, true, false, false, true];
        for (var tick = 0; tick < expected.Length; tick++)
        {
            At(tick);
            Assert.Equal(expected[tick], LatchedCount(0));
            Assert.Equal(outs[tick], (Status(0) & 0x80) != 0);
        }
    }

    [Fact]
    public void Read_back_reports_mode_access_bcd_output_and_null_count()
    {
        _board.Out(0x43, 0x34);
        Assert.Equal(0x40 | 0x80 | 0x30 | 0x04, Status(0));
        _board.Out(0x40, 0x10);
        _board.Out(0x40, 0x00);
        Assert.Equal(0x80 | 0x30 | 0x04, Status(0));
        _board.Out(0x43, 0x31);
        Assert.Equal(0x40 | 0x30 | 0x01, Status(0));
    }

    [Fact]
    public void Read_back_of_status_and_count_returns_status_first()
    {
        Program(2, 0xB0, 0x1234);
        _board.Out(0x43, 0xC8);  // latch count and status of channel 2
        Assert.Equal(0x30, _board.In(0x42) & 0x3F);
        Assert.Equal(0x34, _board.In(0x42));
        Assert.Equal(0x12, _board.In(0x42));
    }

    [Fact]
    public void Bcd_mode_counts_in_decimal()
    {
        Program(0, 0x35, 0x1000);
        At(1);
        Assert.Equal(0x0999, LatchedCount(0));
        At(1000);
        Assert.Equal(0x1000, LatchedCount(0));
    }

    [Fact]
    public void Lobyte_access_loads_and_reads_one_byte()
    {
        _board.Out(0x43, 0x10);
        _board.Out(0x40, 0x20);
        At(8);
        Assert.Equal(24, _board.In(0x40));
        Assert.Equal(24, _board.In(0x40));
    }

    [Fact]
    public void Hibyte_access_loads_the_high_byte()
    {
        _board.Out(0x43, 0x20);
        _board.Out(0x40, 0x02);
        Assert.Equal(0x200, _pit.GetInitialCount(0));
        Assert.Equal(0x02, _board.In(0x40));
    }

    [Fact]
    public void Lohi_reads_alternate_bytes()
    {
        Program(1, 0x70, 0xABCD);
        Assert.Equal(0xCD, _board.In(0x41));
        Assert.Equal(0xAB, _board.In(0x41));
        Assert.Equal(0xCD, _board.In(0x41));
    }

    [Fact]
    public void Channel_2_gate_and_output_are_on_port_61()
    {
        _board.Out(0x61, 0x01);
        Program(2, 0xB0, 100);
        Assert.Equal(0x01, _board.In(0x61) & 0x23);
        At(100);
        Assert.Equal(0x21, _board.In(0x61) & 0x23);
    }

    [Fact]
    public void Gate_low_suspends_mode_0_counting()
    {
        _board.Out(0x61, 0x01);
        Program(2, 0xB0, 100);
        At(40);
        _board.Out(0x61, 0x00);
        At(500);
        Assert.Equal(60, LatchedCount(2));
        Assert.Equal(0, _board.In(0x61) & 0x20);
        _board.Out(0x61, 0x01);
        At(561);
        Assert.Equal(0x20, _board.In(0x61) & 0x20);
    }

    [Fact]
    public void Mode_1_waits_for_a_gate_trigger()
    {
        Program(2, 0xB2, 100);
        At(200);
        Assert.Equal(0x20, _board.In(0x61) & 0x20);
        _board.Out(0x61, 0x01);
        Assert.Equal(0x00, _board.In(0x61) & 0x20);
        At(299);
        Assert.Equal(0x00, _board.In(0x61) & 0x20);
        // The count loaded at the trigger, which fell between clock edges.
        At(301);
        Assert.Equal(0x20, _board.In(0x61) & 0x20);
    }

    [Fact]
    public void Mode_4_strobes_low_for_one_clock_at_terminal_count()
    {
        Program(0, 0x38, 50);
        var rises = Irq0.Rises;
        At(49);
        Assert.Equal(0x80, Status(0) & 0x80);
        At(50);
        Assert.Equal(0x00, Status(0) & 0x80);
        At(51);
        Assert.Equal(0x80, Status(0) & 0x80);
        Assert.Equal(rises + 1, Irq0.Rises);
        At(10_000);
        Assert.Equal(rises + 1, Irq0.Rises);
    }

    [Fact]
    public void Refresh_bit_toggles_on_each_read_of_port_61()
    {
        var first = _board.In(0x61) & 0x10;
        var second = _board.In(0x61) & 0x10;
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Speaker_data_bit_reads_back()
    {
        _board.Out(0x61, 0x03);
        Assert.Equal(0x03, _board.In(0x61) & 0x03);
    }

    [Fact]
    public void State_round_trip_keeps_counting_in_step()
    {
        Program(0, 0x34, 100);
        Program(2, 0xB6, 0x300);
        At(30);
        var other = new TestBoard();
        other.Clock.RunUntil(_board.Clock.Now);
        var copy = other.Realize(new Pit8254());
        TestBoard.CopyState(_pit, copy);
        Assert.Equal(70, LatchedCount(0));
        other.Out(0x43, 0x00);
        Assert.Equal(70, other.In(0x40) | (other.In(0x40) << 8));
        Assert.Equal(_pit.GetMode(2), copy.GetMode(2));
        var rises = other.Irq(0).Rises;
        other.Clock.RunUntil(Ns(300));
        Assert.Equal(rises + 3, other.Irq(0).Rises);
    }

    [Fact]
    public void Speaker_state_round_trip_keeps_the_data_bit()
    {
        _board.Out(0x61, 0x02);
        var other = new TestBoard();
        var otherPit = other.Realize(new Pit8254());
        var copy = other.Realize(new PcSpeaker { Pit = otherPit });
        TestBoard.CopyState(_speaker, copy);
        Assert.True(copy.DataOn);
        Assert.Equal(0x02, other.In(0x61) & 0x02);
    }
}
