namespace Qmp.Machine.Devices.Apic;

/// <summary>The local APIC's interrupt paths: LINT pins, LVT sources, acceptance by priority, EOI, IPIs.</summary>
public sealed partial class LocalApic
{
    private void SetLint(int pin, bool level)
    {
        var rising = level && !_lintLevel[pin];
        _lintLevel[pin] = level;
        if (!_hardwareEnabled)
        {
            // Without the APIC the pins are the CPU's INTR and NMI inputs.
            if (rising)
            {
                if (pin == 0)
                    Notify();
                else
                    NmiRequested?.Invoke();
            }
            return;
        }
        var index = LvtLint0 + pin;
        if (rising || (level && IsLevelTriggeredFixed(index, _lvt[index])))
            Signal(index);
    }

    // Only LINT0 takes level-triggered fixed interrupts; LINT1 is always edge (SDM 10.5.1).
    private static bool IsLevelTriggeredFixed(int index, uint entry) =>
        index == LvtLint0 && (entry & LvtLevelTriggered) != 0 && (int)((entry & LvtMode) >> 8) is ModeFixed or ModeLowestPriority;

    // An LVT source fired: deliver as its entry says.
    private void Signal(int index)
    {
        var entry = _lvt[index];
        if ((entry & LvtMasked) != 0)
            return;
        switch ((int)((entry & LvtMode) >> 8))
        {
            case ModeFixed or ModeLowestPriority:
                SignalFixed(index, entry);
                break;
            case ModeNmi:
                NmiRequested?.Invoke();
                break;
            case ModeExtInt:
                // LINT0's ExtINT is the PIC routing itself; other sources latch a request.
                if (index != LvtLint0)
                    _extIntRequested = true;
                Notify();
                break;
            default:
                // SMI (there is no SMM), INIT (resetting the CPU is its own business) and
                // reserved modes deliver nothing.
                break;
        }
    }

    private void SignalFixed(int index, uint entry)
    {
        var level = IsLevelTriggeredFixed(index, entry);
        if (level && (entry & LvtRemoteIrr) != 0)
            return;
        if (Accept((int)(entry & LvtVector), level, fromErrorEntry: index == LvtError) && level)
            _lvt[index] |= LvtRemoteIrr;
    }

    private bool Accept(int vector, bool levelTriggered, bool fromErrorEntry = false)
    {
        if (vector < 16)
        {
            // An error entry with an illegal vector must not report its own error again.
            RecordError(EsrReceiveIllegalVector, deliver: !fromErrorEntry);
            return false;
        }
        _irr.Add(vector);
        if (levelTriggered)
            _tmr.Add(vector);
        else
            _tmr.Remove(vector);
        Notify();
        return true;
    }

    private void RecordError(uint error, bool deliver = true)
    {
        _pendingErrors |= error;
        if (deliver)
            Signal(LvtError);
    }

    private int DeliverableVector()
    {
        if (!_hardwareEnabled || !SoftwareEnabled)
            return -1;
        var vector = _irr.Highest();
        if (vector < 0 || (vector & 0xF0) <= (Ppr & 0xF0))
            return -1;
        return vector;
    }

    private void EndOfInterrupt()
    {
        var vector = _isr.Highest();
        if (vector < 0)
            return;
        _isr.Remove(vector);
        if (_tmr.Contains(vector))
        {
            for (var pin = 0; pin < 2; pin++)
            {
                var index = LvtLint0 + pin;
                if ((_lvt[index] & LvtRemoteIrr) == 0 || (_lvt[index] & LvtVector) != vector)
                    continue;
                _lvt[index] &= ~LvtRemoteIrr;
                if (_lintLevel[pin])
                    Signal(index);
            }
            EndOfInterruptBroadcast?.Invoke(vector);
        }
        Notify();
    }

    private void SendIpi()
    {
        var low = _icrLow;
        var vector = (int)(low & 0xFF);
        // A single CPU: "self" and "all including self" reach it, "all excluding self" nothing.
        var toSelf = ((low >> 18) & 3) switch
        {
            0 => AcceptsDestination((int)(_icrHigh >> 24), (low & IcrDestinationLogical) != 0),
            1 or 2 => true,
            _ => false,
        };
        switch ((int)((low & LvtMode) >> 8))
        {
            case ModeFixed or ModeLowestPriority:
                if (vector < 16)
                    RecordError(EsrSendIllegalVector);
                else if (toSelf)
                    Accept(vector, levelTriggered: false);  // the ICR trigger bit only qualifies INIT
                break;
            case ModeNmi:
                if (toSelf)
                    NmiRequested?.Invoke();
                break;
            default:
                // SMI (no SMM), INIT and STARTUP (no other CPU to start; resetting this one is
                // the CPU's business) and reserved modes go nowhere.
                break;
        }
    }

    private void Notify()
    {
        if (IsPending)
            InterruptRequested?.Invoke();
    }
}
