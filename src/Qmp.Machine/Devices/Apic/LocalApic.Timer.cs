namespace Qmp.Machine.Devices.Apic;

/// <summary>The local APIC timer: one-shot, periodic and TSC-deadline modes on the virtual clock.</summary>
public sealed partial class LocalApic
{
    private bool TscDeadlineMode => (_lvt[LvtTimer] & LvtTimerModeMask) == LvtTscDeadline;

    /// <summary>IA32_TSC_DEADLINE as the CPU's RDMSR sees it (0 once it fired or when not in TSC-deadline mode).</summary>
    public ulong TscDeadline => TscDeadlineMode ? _tscDeadline : 0;

    /// <summary>
    /// WRMSR IA32_TSC_DEADLINE: in TSC-deadline mode the timer fires when the TSC reaches
    /// <paramref name="deadline"/>, which the CPU has converted to virtual time <paramref name="at"/>;
    /// 0 disarms it. Outside that mode the write is ignored (SDM 10.5.4.1).
    /// </summary>
    public void WriteTscDeadline(ulong deadline, long at)
    {
        if (!TscDeadlineMode)
            return;
        _tscDeadline = deadline;
        _tscDeadlineTime = at;
        UpdateTimer(Now);
    }

    private void WriteInitialCount(uint value)
    {
        // The initial count is ignored in TSC-deadline mode.
        if (TscDeadlineMode)
            return;
        var now = Now;
        CatchUpTimer(now);
        _initialCount = value;
        _countStart = now;
        UpdateTimer(now);
    }

    private void WriteDivideConfig(uint value)
    {
        var now = Now;
        CatchUpTimer(now);
        if (_initialCount != 0)
        {
            // Continue from the current count at the new rate.
            var elapsed = (long)(_initialCount - CurrentCount(now));
            _divideConfig = value & DivideWritable;
            _countStart = now - (elapsed << DivideShift);
        }
        else
            _divideConfig = value & DivideWritable;
        UpdateTimer(now);
    }

    private uint CurrentCount(long now)
    {
        if (_initialCount == 0 || TscDeadlineMode)
            return 0;
        var ticks = Math.Max(0, now - _countStart) >> DivideShift;
        if ((_lvt[LvtTimer] & LvtPeriodic) != 0)
            return (uint)(_initialCount - ticks % _initialCount);
        return ticks >= _initialCount ? 0 : (uint)(_initialCount - ticks);
    }

    // Arms the timer where the count next reaches zero after now: once in one-shot mode, every
    // initial-count ticks in periodic mode. A masked timer keeps counting but needs no timer.
    private void UpdateTimer(long now)
    {
        if (_timer is null)
            return;
        if (TscDeadlineMode)
        {
            // A masked deadline still expires (the MSR clears) but interrupts nobody.
            if (_tscDeadline == 0)
                _timer.Cancel();
            else
                _timer.Arm(Math.Max(_tscDeadlineTime, now));
            return;
        }
        if ((_lvt[LvtTimer] & LvtMasked) != 0 || _initialCount == 0)
        {
            _timer.Cancel();
            return;
        }
        var shift = DivideShift;
        var ticks = Math.Max(0, now - _countStart) >> shift;
        long expiry;
        if ((_lvt[LvtTimer] & LvtPeriodic) != 0)
            expiry = _countStart + (((ticks / _initialCount) + 1) * _initialCount << shift);
        else if (ticks < _initialCount)
            expiry = _countStart + ((long)_initialCount << shift);
        else
        {
            _timer.Cancel();
            return;
        }
        _timer.Arm(expiry);
    }

    // An expiry that passed but whose timer has not run yet (the machine thread runs timers
    // between slices) still interrupts before a register write changes the timer.
    private void CatchUpTimer(long now)
    {
        if (_timer is { IsArmed: true } timer && timer.Deadline <= now)
        {
            timer.Cancel();
            Signal(LvtTimer);
        }
    }

    private void OnTimer()
    {
        if (TscDeadlineMode)
        {
            _tscDeadline = 0;
            if ((_lvt[LvtTimer] & LvtMasked) == 0)
                Signal(LvtTimer);
            return;
        }
        Signal(LvtTimer);
        // Periodic: the next boundary after now, so a late run yields one interrupt, not a burst.
        UpdateTimer(Now);
    }
}
