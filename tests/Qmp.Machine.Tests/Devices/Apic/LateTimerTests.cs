using Qmp.Machine.Devices.Apic;

namespace Qmp.Machine.Tests.Devices.Apic;

/// <summary>The timer when the machine thread runs its expiry late.</summary>
public sealed class LateTimerTests
{
    private readonly TestBoard _board = new();
    private readonly LateTimerClock _clock = new();
    private readonly LocalApic _apic;

    public LateTimerTests()
    {
        _apic = _board.Realize(new LocalApic { ClockOverride = _clock });
        Write(0xF0, 0x1FF);
        Write(0x3E0, 0xB);  // divide by 1
    }

    private void Write(int offset, uint value) => _board.Context.Memory.Write(LocalApic.DefaultBaseAddress + (ulong)offset, 4, value);

    private uint Read(int offset) => (uint)_board.Context.Memory.Read(LocalApic.DefaultBaseAddress + (ulong)offset, 4);

    [Fact]
    public void Expiry_whose_timer_has_not_run_yet_still_interrupts_before_a_register_write_changes_the_timer()
    {
        Write(0x320, 0x30);
        Write(0x380, 100);
        _clock.Now = 150;
        Assert.Equal(0u, Read(0x390));
        Write(0x320, 0x31);
        Assert.Equal(0x30, _apic.Acknowledge());
        Assert.False(_clock.Timer!.IsArmed);
    }

    [Fact]
    public void Late_periodic_run_interrupts_once_and_rearms_at_the_next_boundary()
    {
        Write(0x320, 0x20030);
        Write(0x380, 100);
        Assert.Equal(100, _clock.Timer!.Deadline);
        _clock.Now = 1050;
        _clock.RunTimer();
        Assert.Equal(0x30, _apic.Acknowledge());
        Assert.False(_apic.IsPending);
        Assert.Equal(1100, _clock.Timer.Deadline);
        Assert.Equal(50u, Read(0x390));
    }
}
