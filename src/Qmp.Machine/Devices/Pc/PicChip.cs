namespace Qmp.Machine.Devices.Pc;

/// <summary>
/// One 8259A: the register model of QEMU's i8259 (which follows the Intel datasheet), with
/// priorities relative to <c>_priorityAdd</c> (the rotation's lowest-priority input plus one).
/// The pair wires two of these in cascade.
/// </summary>
internal sealed class PicChip(bool master, byte elcrMask)
{
    private byte _irr;
    private byte _imr;
    private byte _isr;
    private byte _lastIrr;
    private byte _elcr;
    private int _priorityAdd;
    private byte _irqBase;
    private bool _readIsr;
    private bool _poll;
    private bool _specialMask;
    private int _initState;
    private bool _autoEoi;
    private bool _rotateOnAutoEoi;
    private bool _specialFullyNested;
    private bool _init4;
    private bool _singleMode;
    private bool _ltim;
    private bool _output;

    /// <summary>Called with the INT output level whenever it may have changed.</summary>
    public Action<bool>? OutputChanged { get; set; }

    public bool Output => _output;

    public byte Irr => _irr;

    public byte Isr => _isr;

    public byte Imr => _imr;

    public byte Elcr => _elcr;

    public byte IrqBase => _irqBase;

    /// <summary>The highest-priority requested, unmasked input that beats the in-service ones, or -1.</summary>
    public int PendingIrq()
    {
        var priority = Priority(_irr & ~_imr);
        if (priority == 8)
            return -1;
        var mask = (int)_isr;
        // Special mask mode: masked in-service levels do not inhibit lower ones.
        if (_specialMask)
            mask &= ~_imr;
        // Special fully nested mode: the cascade input does not block further slave requests.
        if (_specialFullyNested && master)
            mask &= ~(1 << 2);
        return priority < Priority(mask) ? (priority + _priorityAdd) & 7 : -1;
    }

    /// <summary>An input pin changed level.</summary>
    public void SetIrq(int irq, bool level)
    {
        var mask = (byte)(1 << irq);
        if (_ltim || (_elcr & mask) != 0)
        {
            // Level triggered: IRR follows the pin.
            if (level)
            {
                _irr |= mask;
                _lastIrr |= mask;
            }
            else
            {
                _irr &= (byte)~mask;
                _lastIrr &= (byte)~mask;
            }
        }
        else if (level)
        {
            if ((_lastIrr & mask) == 0)
                _irr |= mask;
            _lastIrr |= mask;
        }
        else
            _lastIrr &= (byte)~mask;
        Update();
    }

    /// <summary>The INTA cycle for <paramref name="irq"/>: sets ISR (unless auto-EOI) and clears an edge request.</summary>
    public void Acknowledge(int irq)
    {
        var mask = (byte)(1 << irq);
        if (_autoEoi)
        {
            if (_rotateOnAutoEoi)
                _priorityAdd = (irq + 1) & 7;
        }
        else
            _isr |= mask;
        // A level-triggered request stays in IRR while the pin is high.
        if (!_ltim && (_elcr & mask) == 0)
            _irr &= (byte)~mask;
        Update();
    }

    public void WriteCommand(byte value)
    {
        if ((value & 0x10) != 0)
        {
            // ICW1: starts initialization, which clears IMR, ISR and the rotation.
            InitReset();
            _initState = 1;
            _init4 = (value & 1) != 0;
            _singleMode = (value & 2) != 0;
            _ltim = (value & 8) != 0;
            Update();
        }
        else if ((value & 0x08) != 0)
        {
            // OCW3.
            if ((value & 0x04) != 0)
                _poll = true;
            if ((value & 0x02) != 0)
                _readIsr = (value & 1) != 0;
            if ((value & 0x40) != 0)
                _specialMask = (value & 0x20) != 0;
            Update();
        }
        else
            WriteOcw2(value);
    }

    public void WriteData(byte value)
    {
        switch (_initState)
        {
            case 0:
                _imr = value;
                Update();
                break;
            case 1:
                _irqBase = (byte)(value & 0xF8);
                _initState = _singleMode ? (_init4 ? 3 : 0) : 2;
                break;
            case 2:
                // ICW3 (cascade wiring) is fixed on a PC.
                _initState = _init4 ? 3 : 0;
                break;
            default:
                _specialFullyNested = (value & 0x10) != 0;
                _autoEoi = (value & 0x02) != 0;
                _initState = 0;
                break;
        }
    }

    public byte ReadCommand()
    {
        if (_poll)
            return ReadPoll();
        return _readIsr ? _isr : _irr;
    }

    public byte ReadData() => _poll ? ReadPoll() : _imr;

    public void WriteElcr(byte value) => _elcr = (byte)(value & elcrMask);

    /// <summary>Power-on reset: ELCR and LTIM are cleared too.</summary>
    public void Reset()
    {
        _elcr = 0;
        _ltim = false;
        InitReset();
        Update();
    }

    public void Save(BinaryWriter w)
    {
        w.Write(_irr);
        w.Write(_imr);
        w.Write(_isr);
        w.Write(_lastIrr);
        w.Write(_elcr);
        w.Write((byte)_priorityAdd);
        w.Write(_irqBase);
        w.Write(_readIsr);
        w.Write(_poll);
        w.Write(_specialMask);
        w.Write((byte)_initState);
        w.Write(_autoEoi);
        w.Write(_rotateOnAutoEoi);
        w.Write(_specialFullyNested);
        w.Write(_init4);
        w.Write(_singleMode);
        w.Write(_ltim);
    }

    public void Load(BinaryReader r)
    {
        _irr = r.ReadByte();
        _imr = r.ReadByte();
        _isr = r.ReadByte();
        _lastIrr = r.ReadByte();
        _elcr = (byte)(r.ReadByte() & elcrMask);
        _priorityAdd = r.ReadByte() & 7;
        _irqBase = (byte)(r.ReadByte() & 0xF8);
        _readIsr = r.ReadBoolean();
        _poll = r.ReadBoolean();
        _specialMask = r.ReadBoolean();
        _initState = Math.Min((int)r.ReadByte(), 3);
        _autoEoi = r.ReadBoolean();
        _rotateOnAutoEoi = r.ReadBoolean();
        _specialFullyNested = r.ReadBoolean();
        _init4 = r.ReadBoolean();
        _singleMode = r.ReadBoolean();
        _ltim = r.ReadBoolean();
        Update();
    }

    /// <summary>Recomputes INT and reports it.</summary>
    public void Update()
    {
        _output = PendingIrq() >= 0;
        OutputChanged?.Invoke(_output);
    }

    private void WriteOcw2(byte value)
    {
        switch (value >> 5)
        {
            case 0:
            case 4:
                // Rotate in auto-EOI mode: clear (0) or set (4).
                _rotateOnAutoEoi = value >> 7 != 0;
                break;
            case 1:
            case 5:
                // Non-specific EOI (5: and rotate): ends the highest-priority in-service level.
                var priority = Priority(_isr);
                if (priority != 8)
                {
                    var irq = (priority + _priorityAdd) & 7;
                    _isr &= (byte)~(1 << irq);
                    if (value >> 5 == 5)
                        _priorityAdd = (irq + 1) & 7;
                    Update();
                }
                break;
            case 3:
                // Specific EOI.
                _isr &= (byte)~(1 << (value & 7));
                Update();
                break;
            case 6:
                // Set priority: the named level becomes the lowest.
                _priorityAdd = (value + 1) & 7;
                Update();
                break;
            case 7:
                // Rotate on specific EOI.
                var level = value & 7;
                _isr &= (byte)~(1 << level);
                _priorityAdd = (level + 1) & 7;
                Update();
                break;
            default:
                // 2: no operation.
                break;
        }
    }

    private byte ReadPoll()
    {
        // Poll mode: the read is the acknowledge (bit 7 = a request was pending, bits 2..0 = its level).
        _poll = false;
        var irq = PendingIrq();
        if (irq < 0)
            return 0;
        Acknowledge(irq);
        return (byte)(0x80 | irq);
    }

    private void InitReset()
    {
        _lastIrr = 0;
        _irr &= _elcr;
        _imr = 0;
        _isr = 0;
        _priorityAdd = 0;
        _irqBase = 0;
        _readIsr = false;
        _poll = false;
        _specialMask = false;
        _initState = 0;
        _autoEoi = false;
        _rotateOnAutoEoi = false;
        _specialFullyNested = false;
        _init4 = false;
        _singleMode = false;
    }

    // Priority 0 is the highest: the level just after the last rotation point; 8 means none.
    private int Priority(int mask)
    {
        if ((mask & 0xFF) == 0)
            return 8;
        var priority = 0;
        while ((mask & (1 << ((priority + _priorityAdd) & 7))) == 0)
            priority++;
        return priority;
    }
}
