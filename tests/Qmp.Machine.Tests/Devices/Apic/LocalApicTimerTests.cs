using Qmp.Machine.Devices.Apic;

namespace Qmp.Machine.Tests.Devices.Apic;

/// <summary>The APIC timer counts the 1 GHz bus clock (QEMU's: one tick per virtual ns) through the divider.</summary>
public sealed class LocalApicTimerTests
{
    private const int InitialCount = 0x380, CurrentCount = 0x390, DivideConfig = 0x3E0, LvtTimer = 0x320;

    private readonly ApicHarness _h = new();

    public LocalApicTimerTests() => _h.Enable();

    private LocalApic Apic => _h.Apic;

    private ManualClock Clock => _h.Clock;

    // Takes the timer interrupt if one is pending: acknowledge and EOI, as a handler would.
    private bool TakeInterrupt(int vector)
    {
        if (!Apic.IsPending)
            return false;
        Assert.Equal(vector, Apic.Acknowledge());
        _h.Eoi();
        return true;
    }

    [Fact]
    public void One_shot_counts_down_at_the_divided_rate_and_interrupts_once_at_zero()
    {
        _h.Write(DivideConfig, 0x3);  // divide by 16
        _h.Write(LvtTimer, 0x30);
        _h.Write(InitialCount, 1000);
        Assert.Equal(1000u, _h.Read(CurrentCount));
        Clock.Advance(16 * 250 + 15);
        Assert.Equal(750u, _h.Read(CurrentCount));
        Clock.RunUntil(16 * 1000 - 1);
        Assert.Equal(1u, _h.Read(CurrentCount));
        Assert.False(Apic.IsPending);
        var requests = _h.InterruptRequests;
        Clock.RunUntil(16 * 1000);
        Assert.Equal(0u, _h.Read(CurrentCount));
        Assert.True(_h.InterruptRequests > requests);
        Assert.True(TakeInterrupt(0x30));
        Clock.Advance(1_000_000);
        Assert.False(TakeInterrupt(0x30));
        Assert.Equal(0u, _h.Read(CurrentCount));
        Assert.Equal(1000u, _h.Read(InitialCount));
        Assert.Equal(0, Clock.ArmedTimers);
    }

    [Fact]
    public void Periodic_mode_reloads_the_count_and_interrupts_every_period()
    {
        _h.Write(DivideConfig, 0xB);  // divide by 1
        _h.Write(LvtTimer, 0x20031);
        _h.Write(InitialCount, 100);
        Clock.RunUntil(50);
        Assert.Equal(50u, _h.Read(CurrentCount));
        Clock.RunUntil(100);
        Assert.Equal(100u, _h.Read(CurrentCount));
        Assert.True(TakeInterrupt(0x31));
        Clock.RunUntil(130);
        Assert.Equal(70u, _h.Read(CurrentCount));
        var interrupts = 0;
        for (var t = 200; t <= 1000; t += 100)
        {
            Clock.RunUntil(t);
            if (TakeInterrupt(0x31))
                interrupts++;
        }
        Assert.Equal(9, interrupts);
        Assert.Equal(1, Clock.ArmedTimers);
    }

    [Theory]
    [InlineData(0x0, 2)]
    [InlineData(0x1, 4)]
    [InlineData(0x2, 8)]
    [InlineData(0x3, 16)]
    [InlineData(0x8, 32)]
    [InlineData(0x9, 64)]
    [InlineData(0xA, 128)]
    [InlineData(0xB, 1)]
    public void Divide_configuration_selects_the_count_rate(uint config, int divisor)
    {
        _h.Write(DivideConfig, config);
        _h.Write(LvtTimer, 0x30);
        _h.Write(InitialCount, 5000);
        Clock.Advance(divisor * 1234L);
        Assert.Equal(5000u - 1234, _h.Read(CurrentCount));
        Clock.Advance(divisor - 1L);
        Assert.Equal(5000u - 1234, _h.Read(CurrentCount));
        Clock.Advance(1);
        Assert.Equal(5000u - 1235, _h.Read(CurrentCount));
        Assert.False(Apic.IsPending);
        Clock.Advance(divisor * (5000L - 1235));
        Assert.True(TakeInterrupt(0x30));
    }

    [Fact]
    public void Changing_the_divider_mid_count_continues_from_the_current_count()
    {
        _h.Write(DivideConfig, 0x0);  // by 2
        _h.Write(LvtTimer, 0x30);
        _h.Write(InitialCount, 1000);
        Clock.Advance(200);
        Assert.Equal(900u, _h.Read(CurrentCount));
        _h.Write(DivideConfig, 0x1);  // by 4
        Assert.Equal(900u, _h.Read(CurrentCount));
        Clock.Advance(400);
        Assert.Equal(800u, _h.Read(CurrentCount));
        Clock.Advance(4 * 800 - 1);
        Assert.False(Apic.IsPending);
        Clock.Advance(1);
        Assert.True(TakeInterrupt(0x30));
    }

    [Fact]
    public void Masked_timer_keeps_counting_but_does_not_interrupt()
    {
        _h.Write(DivideConfig, 0xB);
        _h.Write(LvtTimer, 0x10030);
        _h.Write(InitialCount, 100);
        Assert.Equal(0, Clock.ArmedTimers);
        Clock.Advance(40);
        Assert.Equal(60u, _h.Read(CurrentCount));
        Clock.Advance(100);
        Assert.Equal(0u, _h.Read(CurrentCount));
        Assert.False(Apic.IsPending);
        Assert.False(_h.InIrr(0x30));
    }

    [Fact]
    public void Unmasking_a_periodic_timer_resumes_interrupts_on_its_original_schedule()
    {
        _h.Write(DivideConfig, 0xB);
        _h.Write(LvtTimer, 0x30030);
        _h.Write(InitialCount, 100);
        Clock.RunUntil(250);
        Assert.False(Apic.IsPending);
        _h.Write(LvtTimer, 0x20030);
        Clock.RunUntil(299);
        Assert.False(Apic.IsPending);
        Clock.RunUntil(300);
        Assert.True(TakeInterrupt(0x30));
    }

    [Fact]
    public void Writing_the_initial_count_restarts_the_count_and_zero_stops_the_timer()
    {
        _h.Write(DivideConfig, 0xB);
        _h.Write(LvtTimer, 0x20030);
        _h.Write(InitialCount, 100);
        Clock.Advance(60);
        _h.Write(InitialCount, 200);
        Assert.Equal(200u, _h.Read(CurrentCount));
        Clock.Advance(199);
        Assert.False(Apic.IsPending);
        Clock.Advance(1);
        Assert.True(TakeInterrupt(0x30));
        _h.Write(InitialCount, 0);
        Assert.Equal(0u, _h.Read(CurrentCount));
        Assert.Equal(0, Clock.ArmedTimers);
        Clock.Advance(10_000);
        Assert.False(Apic.IsPending);
    }

    [Fact]
    public void Tsc_deadline_mode_fires_once_at_the_deadline_and_clears_it()
    {
        _h.Write(LvtTimer, 0x40030);
        Assert.Equal(0x40030u, _h.Read(LvtTimer));
        _h.Write(InitialCount, 50);                    // ignored in this mode
        Assert.Equal(0u, _h.Read(CurrentCount));
        Apic.WriteTscDeadline(1000, 200);
        Assert.Equal(1000ul, Apic.TscDeadline);
        Clock.RunUntil(199);
        Assert.False(Apic.IsPending);
        Clock.RunUntil(200);
        Assert.True(TakeInterrupt(0x30));
        Assert.Equal(0ul, Apic.TscDeadline);
        Clock.Advance(500);
        Assert.False(Apic.IsPending);
    }

    [Fact]
    public void Leaving_tsc_deadline_mode_disarms_the_deadline()
    {
        _h.Write(LvtTimer, 0x40030);
        Apic.WriteTscDeadline(1000, 100);
        _h.Write(LvtTimer, 0x30);
        Clock.Advance(500);
        Assert.False(Apic.IsPending);
        Assert.Equal(0ul, Apic.TscDeadline);
    }

    [Fact]
    public void Timer_interrupt_respects_the_task_priority()
    {
        _h.Write(DivideConfig, 0xB);
        _h.Write(0x80, 0x30);
        _h.Write(LvtTimer, 0x30);
        _h.Write(InitialCount, 10);
        Clock.Advance(10);
        Assert.False(Apic.IsPending);
        Assert.True(_h.InIrr(0x30));
        _h.Write(0x80, 0x20);
        Assert.True(TakeInterrupt(0x30));
    }

    [Fact]
    public void Software_disable_stops_timer_interrupts()
    {
        _h.Write(DivideConfig, 0xB);
        _h.Write(LvtTimer, 0x20030);
        _h.Write(InitialCount, 100);
        _h.Write(0xF0, 0xFF);
        Assert.Equal(0, Clock.ArmedTimers);
        Clock.Advance(1000);
        Assert.False(_h.InIrr(0x30));
    }
}
