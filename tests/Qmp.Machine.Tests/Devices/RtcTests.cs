using Qmp.Machine.Devices.Pc;

namespace Qmp.Machine.Tests.Devices;

public sealed class RtcTests
{
    private const long Second = 1_000_000_000;

    private readonly TestBoard _board = new();
    private readonly CmosRtc _rtc;

    public RtcTests()
    {
        // A Thursday, one second before midnight of a leap day.
        _rtc = _board.Realize(new CmosRtc
        {
            InitialTime = new DateTime(2024, 2, 29, 23, 59, 58, DateTimeKind.Utc),
            RamSize = 128L << 20,
        });
    }

    private IrqProbe Irq8 => _board.Irq(8);

    // Register C without PF, which the default 1024 Hz rate sets whether or not PIE is on.
    private byte FlagsExceptPeriodic() => (byte)(Cmos(0x0C) & 0xB0);

    private byte Cmos(byte index)
    {
        _board.Out(0x70, index);
        return _board.In(0x71);
    }

    private void SetCmos(byte index, byte value)
    {
        _board.Out(0x70, index);
        _board.Out(0x71, value);
    }

    [Fact]
    public void Time_registers_start_from_the_initial_time_in_bcd_24_hour()
    {
        Assert.Equal(0x58, Cmos(0x00));
        Assert.Equal(0x59, Cmos(0x02));
        Assert.Equal(0x23, Cmos(0x04));
        Assert.Equal(0x05, Cmos(0x06));
        Assert.Equal(0x29, Cmos(0x07));
        Assert.Equal(0x02, Cmos(0x08));
        Assert.Equal(0x24, Cmos(0x09));
        Assert.Equal(0x20, Cmos(0x32));
    }

    [Fact]
    public void Status_registers_have_their_power_on_values()
    {
        Assert.Equal(0x26, Cmos(0x0A));
        Assert.Equal(0x02, Cmos(0x0B));
        Assert.Equal(0x00, Cmos(0x0C));
        Assert.Equal(0x80, Cmos(0x0D));
    }

    [Fact]
    public void Time_advances_with_virtual_seconds_across_the_leap_day()
    {
        _board.Clock.Advance(2 * Second);
        Assert.Equal(0x00, Cmos(0x00));
        Assert.Equal(0x00, Cmos(0x02));
        Assert.Equal(0x00, Cmos(0x04));
        Assert.Equal(0x01, Cmos(0x07));
        Assert.Equal(0x03, Cmos(0x08));
        Assert.Equal(0x06, Cmos(0x06));
        Assert.Equal(new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc), _rtc.GetTime());
    }

    [Fact]
    public void Binary_mode_reports_plain_values()
    {
        SetCmos(0x0B, 0x06);
        Assert.Equal(58, Cmos(0x00));
        Assert.Equal(23, Cmos(0x04));
        Assert.Equal(20, Cmos(0x32));
    }

    [Fact]
    public void Twelve_hour_mode_sets_bit_7_for_pm()
    {
        SetCmos(0x0B, 0x00);
        Assert.Equal(0x91, Cmos(0x04));
    }

    [Fact]
    public void Uip_is_set_only_in_the_last_244_microseconds_before_an_update()
    {
        _board.Clock.RunUntil(Second / 2);
        Assert.Equal(0, Cmos(0x0A) & 0x80);
        _board.Clock.RunUntil(Second - 100_000);
        Assert.Equal(0x80, Cmos(0x0A) & 0x80);
        _board.Clock.RunUntil(Second + 1);
        Assert.Equal(0, Cmos(0x0A) & 0x80);
        Assert.Equal(0x59, Cmos(0x00));
    }

    [Fact]
    public void Update_ended_flag_is_set_each_second_and_cleared_by_reading_c()
    {
        _board.Clock.RunUntil(Second - 1);
        Assert.Equal(0x00, FlagsExceptPeriodic());
        _board.Clock.RunUntil(Second);
        Assert.Equal(0x10, FlagsExceptPeriodic());
        Assert.Equal(0x00, Cmos(0x0C));
        Assert.False(Irq8.Level);
    }

    [Fact]
    public void Update_interrupt_raises_irq8_until_c_is_read()
    {
        SetCmos(0x0B, 0x12);
        _board.Clock.Advance(Second);
        Assert.True(Irq8.Level);
        Assert.Equal(0x90, FlagsExceptPeriodic());
        Assert.False(Irq8.Level);
        Assert.Equal(0x00, Cmos(0x0C));
        _board.Clock.Advance(Second);
        Assert.Equal(2, Irq8.Rises);
    }

    [Fact]
    public void Enabling_an_interrupt_whose_flag_is_set_interrupts_at_once()
    {
        _board.Clock.Advance(Second);
        Assert.False(Irq8.Level);
        SetCmos(0x0B, 0x12);
        Assert.True(Irq8.Level);
        Assert.Equal(0x90, FlagsExceptPeriodic());
    }

    [Fact]
    public void Periodic_interrupt_follows_the_rate_in_register_a()
    {
        SetCmos(0x0A, 0x2F);  // rate 15: every 500 ms
        SetCmos(0x0B, 0x42);
        _board.Clock.RunUntil(Second / 2 - 1);
        Assert.False(Irq8.Level);
        _board.Clock.RunUntil(Second / 2);
        Assert.True(Irq8.Level);
        Assert.Equal(0xC0, Cmos(0x0C));
        SetCmos(0x0A, 0x26);  // 1024 Hz
        for (var i = 0; i < 8; i++)
        {
            _board.Clock.Advance(Second / 1024 + 1);
            Assert.Equal(0xC0, Cmos(0x0C) & 0xC0);
        }
    }

    [Fact]
    public void Periodic_flag_is_set_without_pie_but_does_not_interrupt()
    {
        _board.Clock.Advance(Second / 1024 + 1);
        Assert.Equal(0x40, Cmos(0x0C));
        Assert.Equal(0x00, Cmos(0x0C));
        Assert.False(Irq8.Level);
    }

    [Fact]
    public void Alarm_fires_when_the_time_matches_with_dont_care_fields()
    {
        SetCmos(0x01, 0x00);  // second 00
        SetCmos(0x03, 0xC0);  // any minute
        SetCmos(0x05, 0xFF);  // any hour
        SetCmos(0x0B, 0x22);
        _board.Clock.Advance(Second);
        Assert.False(Irq8.Level);
        Assert.Equal(0x10, FlagsExceptPeriodic());
        _board.Clock.Advance(Second);
        Assert.True(Irq8.Level);
        Assert.Equal(0xB0, FlagsExceptPeriodic());
    }

    [Fact]
    public void Set_bit_freezes_the_time_for_the_guest_to_write()
    {
        SetCmos(0x0B, 0x82);
        SetCmos(0x00, 0x30);
        SetCmos(0x02, 0x15);
        _board.Clock.Advance(5 * Second);
        Assert.Equal(0x30, Cmos(0x00));
        Assert.Equal(0x00, FlagsExceptPeriodic());
        SetCmos(0x0B, 0x02);
        _board.Clock.Advance(Second);
        Assert.Equal(0x31, Cmos(0x00));
        Assert.Equal(0x15, Cmos(0x02));
    }

    [Fact]
    public void Set_bit_clears_uie()
    {
        SetCmos(0x0B, 0x92);
        Assert.Equal(0x82, Cmos(0x0B));
    }

    [Fact]
    public void Writing_a_time_field_while_running_keeps_the_other_fields_counting()
    {
        _board.Clock.Advance(Second);
        SetCmos(0x02, 0x10);
        Assert.Equal(0x10, Cmos(0x02));
        _board.Clock.Advance(Second);
        Assert.Equal(0x00, Cmos(0x00));
        Assert.Equal(0x11, Cmos(0x02));
        Assert.Equal(0x23, Cmos(0x04));
        Assert.Equal(0x29, Cmos(0x07));
    }

    [Fact]
    public void Divider_reset_stops_the_clock_and_release_updates_half_a_second_later()
    {
        _board.Clock.RunUntil(Second / 4);
        SetCmos(0x0A, 0x76);
        Cmos(0x0C);
        _board.Clock.Advance(10 * Second);
        Assert.Equal(0x58, Cmos(0x00));
        Assert.Equal(0x00, Cmos(0x0C));
        SetCmos(0x0A, 0x26);
        _board.Clock.Advance(Second / 2 - 1);
        Assert.Equal(0x58, Cmos(0x00));
        _board.Clock.Advance(1);
        Assert.Equal(0x59, Cmos(0x00));
    }

    [Fact]
    public void Index_bit_7_masks_nmi_and_does_not_change_the_register()
    {
        _board.Out(0x70, 0x8A);
        Assert.True(_rtc.NmiMasked);
        Assert.Equal(0x26, _board.In(0x71));
        _board.Out(0x70, 0x0A);
        Assert.False(_rtc.NmiMasked);
    }

    [Fact]
    public void Registers_c_and_d_ignore_writes()
    {
        SetCmos(0x0C, 0xF0);
        SetCmos(0x0D, 0x00);
        Assert.Equal(0x00, Cmos(0x0C));
        Assert.Equal(0x80, Cmos(0x0D));
    }

    [Fact]
    public void Cmos_ram_keeps_what_is_written()
    {
        SetCmos(0x40, 0x5A);
        SetCmos(0x7F, 0xA5);
        Assert.Equal(0x5A, Cmos(0x40));
        Assert.Equal(0xA5, Cmos(0x7F));
    }

    [Fact]
    public void Memory_size_bytes_describe_the_ram_as_a_bios_reads_them()
    {
        Assert.Equal(640, Cmos(0x15) | (Cmos(0x16) << 8));
        Assert.Equal(0xFFFF, Cmos(0x17) | (Cmos(0x18) << 8));
        Assert.Equal(0xFFFF, Cmos(0x30) | (Cmos(0x31) << 8));
        Assert.Equal((128 - 16) * 16, Cmos(0x34) | (Cmos(0x35) << 8));
        Assert.Equal(0, Cmos(0x5B) | Cmos(0x5C) | Cmos(0x5D));
    }

    [Fact]
    public void Memory_above_4g_is_counted_in_64k_units()
    {
        var rtc = new TestBoard().Realize(new CmosRtc { RamSize = 4L << 30 });
        // pc-i440fx keeps 3 GiB below 4 GiB once RAM reaches 3.5 GiB.
        Assert.Equal((int)((0xC0000000L - (16L << 20)) / 65536), rtc.GetCmosByte(0x34) | (rtc.GetCmosByte(0x35) << 8));
        Assert.Equal(0x004000, rtc.GetCmosByte(0x5B) | (rtc.GetCmosByte(0x5C) << 8) | (rtc.GetCmosByte(0x5D) << 16));
    }

    [Fact]
    public void Small_ram_fits_in_the_extended_memory_bytes()
    {
        var board = new TestBoard();
        var rtc = board.Realize(new CmosRtc { RamSize = 32L << 20 });
        Assert.Equal((31 * 1024) & 0xFF, rtc.GetCmosByte(0x17));
        Assert.Equal((31 * 1024) >> 8, rtc.GetCmosByte(0x18));
        Assert.Equal(16 * 16, rtc.GetCmosByte(0x34) | (rtc.GetCmosByte(0x35) << 8));
    }

    [Fact]
    public void Guest_setting_the_time_reports_the_change()
    {
        long? offset = null;
        _rtc.GuestTimeChanged += o => offset = o;
        SetCmos(0x0B, 0x82);
        SetCmos(0x09, 0x28);
        SetCmos(0x0B, 0x02);
        Assert.NotNull(offset);
        Assert.Equal(new DateTime(2028, 2, 29, 23, 59, 58, DateTimeKind.Utc), _rtc.GetTime());
    }

    [Fact]
    public void Reset_disables_interrupts_and_clears_flags()
    {
        SetCmos(0x0B, 0x72);
        _board.Clock.Advance(Second);
        Assert.True(Irq8.Level);
        _rtc.Reset();
        Assert.False(Irq8.Level);
        Assert.Equal(0x02, Cmos(0x0B));
        Assert.Equal(0x00, Cmos(0x0C));
    }

    [Fact]
    public void State_round_trip_keeps_time_registers_and_interrupts()
    {
        SetCmos(0x0B, 0x12);
        SetCmos(0x40, 0x77);
        _board.Clock.Advance(Second);
        var other = new TestBoard();
        other.Clock.RunUntil(_board.Clock.Now);
        var copy = other.Realize(new CmosRtc { InitialTime = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc) });
        TestBoard.CopyState(_rtc, copy);
        Assert.True(other.Irq(8).Level);
        other.Out(0x70, 0x40);
        Assert.Equal(0x77, other.In(0x71));
        other.Out(0x70, 0x0C);
        Assert.Equal(0x90, other.In(0x71) & 0xB0);
        other.Clock.Advance(Second);
        Assert.Equal(new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc), copy.GetTime());
        Assert.True(other.Irq(8).Level);
    }
}
