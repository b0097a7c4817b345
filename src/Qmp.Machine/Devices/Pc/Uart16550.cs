using Qmp.Machine.Chardevs;
using Qmp.Machine.Timers;
using Qmp.Memory;

namespace Qmp.Machine.Devices.Pc;

/// <summary>
/// A 16550A UART on the ISA bus (QEMU's <c>isa-serial</c>): RBR/THR, IER, IIR/FCR, LCR with
/// DLAB, MCR with loopback, LSR, MSR, SCR and the divisor latch, 16-byte receive FIFO with
/// trigger levels and character timeout, and the datasheet's interrupt priorities.
/// </summary>
/// <remarks>
/// Transmission is not paced at the programmed baud rate: a byte written to THR goes to the
/// backend at once and THR/TEMT are empty again before the write returns (QEMU does the same
/// whenever its backend accepts the byte; this machine never waits for a slow backend, which
/// buffers or drops instead). The divisor and line settings only time the receive FIFO's
/// character-timeout interrupt. The modem inputs read as DCD, DSR and CTS asserted.
/// </remarks>
public sealed class Uart16550 : Device, IStatefulDevice
{
    private const int CurrentVersion = 1;
    private const int FifoSize = 16;

    private const byte IerRdi = 0x01, IerThri = 0x02, IerRlsi = 0x04, IerMsi = 0x08;
    private const byte IirNoInt = 0x01, IirMsi = 0x00, IirThri = 0x02, IirRdi = 0x04, IirRlsi = 0x06, IirCti = 0x0C, IirFifo = 0xC0;
    private const byte LsrDr = 0x01, LsrOe = 0x02, LsrBi = 0x10, LsrThre = 0x20, LsrTemt = 0x40, LsrIntAny = 0x1E;
    private const byte McrLoop = 0x10, McrOut2 = 0x08;
    private const byte MsrDcd = 0x80, MsrDsr = 0x20, MsrCts = 0x10, MsrAnyDelta = 0x0F, MsrTeri = 0x04, MsrRi = 0x40;
    private const byte FcrEnable = 0x01, FcrRxReset = 0x02, FcrTxReset = 0x04;
    private const byte LcrDlab = 0x80;

    private static readonly ushort[] _isaBases = [0x3F8, 0x2F8, 0x3E8, 0x2E8];
    private static readonly int[] _isaIrqs = [4, 3, 4, 3];

    private readonly ByteFifo _rxFifo = new(FifoSize);
    private int _index;
    private ushort? _ioBase;
    private int? _irqNumber;
    private ICharBackend? _backend;
    private int _baudBase = 115200;

    private ushort _divider;
    private byte _rbr;
    private byte _ier;
    private byte _iir;
    private byte _lcr;
    private byte _mcr;
    private byte _lsr;
    private byte _msr;
    private byte _scr;
    private byte _fcr;
    private int _rxTriggerLevel = 1;
    private bool _thrPending;
    private bool _timeoutPending;
    private long _timeoutDeadline = -1;

    private IDeviceClock? _clock;
    private MachineTimer? _timeoutTimer;
    private IrqLine _irq = IrqLine.Unconnected;
    private Action<ReadOnlySpan<byte>>? _receivedHandler;
    private Func<int>? _canReceiveHandler;

    /// <summary>Creates a UART in its reset state.</summary>
    public Uart16550() => ResetRegisters();

    /// <inheritdoc/>
    public override string TypeName => "isa-serial";

    /// <inheritdoc/>
    public string SectionName => "serial";

    /// <inheritdoc/>
    public int StateVersion => CurrentVersion;

    /// <summary>COM port number 0..3 (QEMU's <c>index</c>): picks the default base 0x3f8/0x2f8/0x3e8/0x2e8 and IRQ 4/3/4/3.</summary>
    public int Index
    {
        get => _index;
        set
        {
            CheckNotRealized(nameof(Index));
            _index = value;
        }
    }

    /// <summary>The base port (QEMU's <c>iobase</c>); null takes the one of <see cref="Index"/>.</summary>
    public ushort? IoBase
    {
        get => _ioBase;
        set
        {
            CheckNotRealized(nameof(IoBase));
            _ioBase = value;
        }
    }

    /// <summary>The ISA interrupt (QEMU's <c>irq</c>); null takes the one of <see cref="Index"/>.</summary>
    public int? Irq
    {
        get => _irqNumber;
        set
        {
            CheckNotRealized(nameof(Irq));
            _irqNumber = value;
        }
    }

    /// <summary>The host side (QEMU's <c>chardev</c>); null drops output and receives nothing.</summary>
    public ICharBackend? Backend
    {
        get => _backend;
        set
        {
            CheckNotRealized(nameof(Backend));
            _backend = value;
        }
    }

    /// <summary>The UART input clock divided by 16, in baud (QEMU's <c>baudbase</c>, 115200).</summary>
    public int BaudBase
    {
        get => _baudBase;
        set
        {
            CheckNotRealized(nameof(BaudBase));
            _baudBase = value;
        }
    }

    /// <summary>The base port in use: <see cref="IoBase"/> or the default of <see cref="Index"/>.</summary>
    public ushort EffectiveIoBase => _ioBase ?? (_index is >= 0 and < 4 ? _isaBases[_index] : (ushort)0);

    /// <summary>The ISA interrupt in use: <see cref="Irq"/> or the default of <see cref="Index"/>.</summary>
    public int EffectiveIrq => _irqNumber ?? (_index is >= 0 and < 4 ? _isaIrqs[_index] : -1);

    /// <summary>Test seam: the clock and timers to use instead of the board's.</summary>
    internal IDeviceClock? ClockOverride { get; set; }

    private long Now => _clock?.Now ?? 0;

    private bool FifoEnabled => (_fcr & FcrEnable) != 0;

    private bool Loopback => (_mcr & McrLoop) != 0;

    /// <summary>System reset: registers return to their power-on values and the FIFO empties.</summary>
    public void Reset()
    {
        ResetRegisters();
        _timeoutTimer?.Cancel();
        _irq.Lower();
    }

    /// <inheritdoc/>
    public void SaveState(BinaryWriter writer)
    {
        writer.Write(_divider);
        writer.Write(_rbr);
        writer.Write(_ier);
        writer.Write(_iir);
        writer.Write(_lcr);
        writer.Write(_mcr);
        writer.Write(_lsr);
        writer.Write(_msr);
        writer.Write(_scr);
        writer.Write(_fcr);
        writer.Write(_thrPending);
        writer.Write(_timeoutPending);
        writer.Write(_timeoutTimer?.IsArmed == true ? _timeoutDeadline : -1L);
        _rxFifo.Save(writer);
    }

    /// <inheritdoc/>
    public void LoadState(BinaryReader reader, int version)
    {
        StateSections.CheckVersion(SectionName, version, CurrentVersion);
        _divider = reader.ReadUInt16();
        _rbr = reader.ReadByte();
        _ier = (byte)(reader.ReadByte() & 0x0F);
        _iir = reader.ReadByte();
        _lcr = reader.ReadByte();
        _mcr = (byte)(reader.ReadByte() & 0x1F);
        _lsr = reader.ReadByte();
        _msr = reader.ReadByte();
        _scr = reader.ReadByte();
        _fcr = (byte)(reader.ReadByte() & 0xC9);
        _thrPending = reader.ReadBoolean();
        _timeoutPending = reader.ReadBoolean();
        _timeoutDeadline = reader.ReadInt64();
        _rxFifo.Load(reader);
        _rxTriggerLevel = TriggerLevel(_fcr);
        if (_timeoutDeadline >= 0)
            _timeoutTimer?.Arm(_timeoutDeadline);
        else
            _timeoutTimer?.Cancel();
        UpdateIrq();
    }

    /// <inheritdoc/>
    public override IEnumerable<Qom.QomProperty> QomProperties() =>
    [
        new("index", "uint32", () => Index, v => Index = checked((int)Qom.QomValues.UInt32(v, "index"))),
        new("iobase", "uint32", () => (long)EffectiveIoBase, v => IoBase = checked((ushort)Qom.QomValues.UInt32(v, "iobase"))),
        new("irq", "uint32", () => (long)EffectiveIrq, v => Irq = checked((int)Qom.QomValues.UInt32(v, "irq"))),
    ];

    /// <inheritdoc/>
    protected override void OnRealize(RealizeScope scope)
    {
        if (_index is < 0 or > 3 && (_ioBase is null || _irqNumber is null))
            throw new DeviceRealizeException("Max. supported number of ISA serial ports is 4.");
        var irq = EffectiveIrq;
        if (irq is < 0 or > 15)
            throw new DeviceRealizeException("Maximum value for \"irq\" is: 15");
        if (_baudBase <= 0)
            throw new DeviceRealizeException($"{TypeName}: baudbase must be positive");
        _clock = ClockOverride ?? new TimerQueueClock(scope.Context.Timers);
        _irq = scope.Context.IsaIrq(irq);
        var timer = _clock.CreateTimer(OnCharacterTimeout);
        _timeoutTimer = timer;
        scope.OnUndo(timer.Cancel);
        scope.MapPorts(EffectiveIoBase, MemoryRegion.Io("serial", 8, new DelegateIoHandler(Read, Write), IoAccessRules.Bytes));
        if (_backend is { } backend)
        {
            if (backend.Received is not null || backend.CanReceive is not null)
                throw new DeviceRealizeException("Device is in use: the chardev already has a frontend");
            _receivedHandler = Receive;
            _canReceiveHandler = CanReceive;
            backend.CanReceive = _canReceiveHandler;
            backend.Received = _receivedHandler;
            scope.OnUndo(DetachBackend);
        }
        Reset();
    }

    /// <inheritdoc/>
    protected override void OnUnrealize()
    {
        _timeoutTimer?.Cancel();
        _irq.Lower();
    }

    private static int TriggerLevel(byte fcr) => (fcr & 0xC0) switch
    {
        0x00 => 1,
        0x40 => 4,
        0x80 => 8,
        _ => 14,
    };

    private void DetachBackend()
    {
        if (_backend is not { } backend)
            return;
        // Only undo what this device attached.
        if (ReferenceEquals(backend.Received, _receivedHandler))
            backend.Received = null;
        if (ReferenceEquals(backend.CanReceive, _canReceiveHandler))
            backend.CanReceive = null;
        _receivedHandler = null;
        _canReceiveHandler = null;
    }

    private void ResetRegisters()
    {
        _rbr = 0;
        _ier = 0;
        _iir = IirNoInt;
        _lcr = 0;
        _lsr = LsrTemt | LsrThre;
        _msr = MsrDcd | MsrDsr | MsrCts;
        _divider = 0x0C;  // 9600 baud
        _mcr = McrOut2;
        _scr = 0;
        _fcr = 0;
        _rxTriggerLevel = 1;
        _rxFifo.Clear();
        _thrPending = false;
        _timeoutPending = false;
        _timeoutDeadline = -1;
    }

    private ulong Read(ulong offset, int size)
    {
        switch (offset)
        {
            case 0:
                if ((_lcr & LcrDlab) != 0)
                    return (byte)_divider;
                return ReadRbr();
            case 1:
                return (_lcr & LcrDlab) != 0 ? (byte)(_divider >> 8) : _ier;
            case 2:
                var iir = _iir;
                // Reading IIR while THRE is the reported source clears that interrupt.
                if ((iir & 0x0F) == IirThri)
                {
                    _thrPending = false;
                    UpdateIrq();
                }
                return iir;
            case 3:
                return _lcr;
            case 4:
                return _mcr;
            case 5:
                var lsr = _lsr;
                // Reading LSR clears the error bits (overrun, parity, framing, break).
                if ((_lsr & LsrIntAny) != 0)
                {
                    _lsr &= unchecked((byte)~LsrIntAny);
                    UpdateIrq();
                }
                return lsr;
            case 6:
                var msr = _msr;
                if ((_msr & MsrAnyDelta) != 0)
                {
                    _msr &= 0xF0;
                    UpdateIrq();
                }
                return msr;
            default:
                return _scr;
        }
    }

    private byte ReadRbr()
    {
        byte value;
        if (FifoEnabled)
        {
            value = _rxFifo.IsEmpty ? (byte)0 : _rxFifo.Pop();
            if (_rxFifo.IsEmpty)
            {
                _lsr &= unchecked((byte)~(LsrDr | LsrBi));
                CancelTimeout();
            }
            else
                ArmTimeout();
            _timeoutPending = false;
        }
        else
        {
            value = _rbr;
            _lsr &= unchecked((byte)~(LsrDr | LsrBi));
        }
        UpdateIrq();
        return value;
    }

    private void Write(ulong offset, int size, ulong raw)
    {
        var value = (byte)raw;
        switch (offset)
        {
            case 0:
                if ((_lcr & LcrDlab) != 0)
                    _divider = (ushort)((_divider & 0xFF00) | value);
                else
                    Transmit(value);
                break;
            case 1:
                if ((_lcr & LcrDlab) != 0)
                {
                    _divider = (ushort)((_divider & 0x00FF) | (value << 8));
                    break;
                }
                var changed = (_ier ^ value) & 0x0F;
                _ier = (byte)(value & 0x0F);
                // Enabling the THRE interrupt with THR empty interrupts at once.
                if ((changed & IerThri) != 0)
                    _thrPending = (_ier & IerThri) != 0 && (_lsr & LsrThre) != 0;
                if (changed != 0)
                    UpdateIrq();
                break;
            case 2:
                WriteFcr(value);
                break;
            case 3:
                _lcr = value;
                break;
            case 4:
                WriteMcr(value);
                break;
            case 5:
            case 6:
                // LSR and MSR are read-only (factory test writes are ignored, as in QEMU).
                break;
            default:
                _scr = value;
                break;
        }
    }

    private void Transmit(byte value)
    {
        _thrPending = false;
        _lsr &= unchecked((byte)~(LsrThre | LsrTemt));
        UpdateIrq();
        if (Loopback)
            Receive([value]);
        else
            _backend?.Write([value]);
        // The shift register is done at once (see remarks): THR and the transmitter are empty again.
        _lsr |= LsrThre | LsrTemt;
        _thrPending = true;
        UpdateIrq();
    }

    private void WriteFcr(byte value)
    {
        if (value == _fcr)
            return;
        // Toggling FIFO enable clears both FIFOs.
        if (((value ^ _fcr) & FcrEnable) != 0)
            value |= FcrRxReset | FcrTxReset;
        if ((value & FcrRxReset) != 0)
        {
            _lsr &= unchecked((byte)~(LsrDr | LsrBi));
            CancelTimeout();
            _timeoutPending = false;
            _rxFifo.Clear();
        }
        if ((value & FcrTxReset) != 0)
        {
            _lsr |= LsrThre | LsrTemt;
            _thrPending = true;
        }
        _fcr = (byte)(value & 0xC9);
        _rxTriggerLevel = TriggerLevel(_fcr);
        UpdateIrq();
    }

    private void WriteMcr(byte value)
    {
        var wasLoop = Loopback;
        _mcr = (byte)(value & 0x1F);
        if (Loopback)
        {
            // Loopback ties the modem outputs to the inputs: DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD.
            var inputs = (byte)(((_mcr & 0x0C) << 4) | ((_mcr & 0x02) << 3) | ((_mcr & 0x01) << 5));
            SetModemInputs(inputs);
        }
        else if (wasLoop)
            _msr = (byte)((_msr & MsrAnyDelta) | MsrDcd | MsrDsr | MsrCts);
    }

    private void SetModemInputs(byte inputs)
    {
        var old = _msr;
        var changed = ((old ^ inputs) >> 4) & 0x0F;
        // TERI reports only the trailing (1→0) edge of RI.
        if ((inputs & MsrRi) != 0)
            changed &= ~MsrTeri;
        _msr = (byte)(inputs | (old & MsrAnyDelta) | changed);
        if (changed != 0)
            UpdateIrq();
    }

    private int CanReceive()
    {
        if (Loopback)
            return 0;
        if (!FifoEnabled)
            return (_lsr & LsrDr) != 0 ? 0 : 1;
        if (_rxFifo.IsFull)
            return 0;
        // Offer up to the trigger level, then a byte at a time, so the guest sees its chosen
        // trigger level rather than a FIFO filled before it can react (QEMU does the same).
        return _rxFifo.Count < _rxTriggerLevel ? _rxTriggerLevel - _rxFifo.Count : 1;
    }

    private void Receive(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
            return;
        if (FifoEnabled)
        {
            foreach (var b in data)
            {
                // An overrun keeps the FIFO's contents and loses the new byte.
                if (_rxFifo.IsFull)
                    _lsr |= LsrOe;
                else
                    _rxFifo.Push(b);
            }
            _lsr |= LsrDr;
            ArmTimeout();
        }
        else
        {
            foreach (var b in data)
            {
                if ((_lsr & LsrDr) != 0)
                    _lsr |= LsrOe;
                _rbr = b;
                _lsr |= LsrDr;
            }
        }
        UpdateIrq();
    }

    // Four character times at the programmed rate and frame (start + data + parity + stop bits).
    private long CharacterTime()
    {
        var divider = _divider == 0 ? 1 : _divider;
        var bits = 1 + (_lcr & 0x03) + 5 + ((_lcr & 0x08) != 0 ? 1 : 0) + ((_lcr & 0x04) != 0 ? 2 : 1);
        return (long)bits * 1_000_000_000L * divider / _baudBase;
    }

    private void ArmTimeout()
    {
        if (_timeoutTimer is null)
            return;
        _timeoutDeadline = Now + 4 * CharacterTime();
        _timeoutTimer.Arm(_timeoutDeadline);
    }

    private void CancelTimeout()
    {
        _timeoutTimer?.Cancel();
        _timeoutDeadline = -1;
    }

    private void OnCharacterTimeout()
    {
        _timeoutDeadline = -1;
        if (_rxFifo.IsEmpty)
            return;
        _timeoutPending = true;
        UpdateIrq();
    }

    // Interrupt identification by priority: line status, received data or character timeout,
    // THR empty, modem status.
    private void UpdateIrq()
    {
        byte id;
        if ((_ier & IerRlsi) != 0 && (_lsr & LsrIntAny) != 0)
            id = IirRlsi;
        else if ((_ier & IerRdi) != 0 && _timeoutPending)
            id = IirCti;
        else if ((_ier & IerRdi) != 0 && (_lsr & LsrDr) != 0 && (!FifoEnabled || _rxFifo.Count >= _rxTriggerLevel))
            id = IirRdi;
        else if ((_ier & IerThri) != 0 && _thrPending)
            id = IirThri;
        else if ((_ier & IerMsi) != 0 && (_msr & MsrAnyDelta) != 0)
            id = IirMsi;
        else
            id = IirNoInt;
        _iir = (byte)(id | (FifoEnabled ? IirFifo : 0));
        _irq.Set(id != IirNoInt);
    }
}
