using Qmp.Memory;

namespace Qmp.Machine.Devices.Pc;

/// <summary>
/// The 8042 keyboard controller (QEMU's <c>i8042</c>) at ports 0x60 (data) and 0x64
/// (status/command), enough for firmware and kernels: self-test, the command byte, the output
/// port with the reset line and A20 gate, pulse commands (0xFE resets the machine), and a
/// keyboard and mouse that answer commands (ACK, reset and identify) without ever sending keys.
/// </summary>
public sealed class I8042 : Device, IStatefulDevice
{
    private const int CurrentVersion = 1;

    private const byte StatOutputFull = 0x01, StatSystem = 0x04, StatCommand = 0x08, StatUnlocked = 0x10, StatAuxFull = 0x20;
    private const byte ModeKbdInt = 0x01, ModeAuxInt = 0x02, ModeSystem = 0x04, ModeDisableKbd = 0x10, ModeDisableAux = 0x20;
    private const byte OutReset = 0x01, OutA20 = 0x02, OutOutputFull = 0x10, OutAuxFull = 0x20, OutOnes = 0xCC;

    private readonly Queue<(byte Value, bool Aux)> _output = new();
    private byte _status;
    private byte _mode;
    private byte _outport;
    private byte _pendingCommand;   // controller command awaiting its data byte on port 0x60
    private byte _kbdParameterFor;  // keyboard command awaiting its parameter byte
    private byte _auxParameterFor;  // mouse command awaiting its parameter byte
    private byte _lastRead;
    private IMachineControl? _control;
    private IrqLine _kbdIrq = IrqLine.Unconnected;
    private IrqLine _auxIrq = IrqLine.Unconnected;

    /// <summary>Creates the controller in its reset state.</summary>
    public I8042() => ResetRegisters();

    /// <inheritdoc/>
    public override string TypeName => "i8042";

    /// <inheritdoc/>
    public string SectionName => "pckbd";

    /// <inheritdoc/>
    public int StateVersion => CurrentVersion;

    /// <summary>The A20 gate as the output port drives it (bit 1).</summary>
    public bool A20Enabled => (_outport & OutA20) != 0;

    /// <summary>Raised when the guest changes the A20 gate through the controller.</summary>
    public event Action<bool>? A20Changed;

    /// <summary>The output port (P2): bit 0 the reset line (0 = reset), bit 1 A20.</summary>
    public byte OutputPort => _outport;

    /// <summary>The command byte (QEMU's "mode").</summary>
    public byte CommandByte => _mode;

    /// <summary>System reset: command byte, status and output port return to their power-on values.</summary>
    public void Reset()
    {
        var a20 = A20Enabled;
        ResetRegisters();
        UpdateIrq();
        if (!a20)
            A20Changed?.Invoke(true);
    }

    /// <inheritdoc/>
    public void SaveState(BinaryWriter writer)
    {
        writer.Write(_status);
        writer.Write(_mode);
        writer.Write(_outport);
        writer.Write(_pendingCommand);
        writer.Write(_kbdParameterFor);
        writer.Write(_auxParameterFor);
        writer.Write(_lastRead);
        writer.Write((byte)_output.Count);
        foreach (var (value, aux) in _output)
        {
            writer.Write(value);
            writer.Write(aux);
        }
    }

    /// <inheritdoc/>
    public void LoadState(BinaryReader reader, int version)
    {
        StateSections.CheckVersion(SectionName, version, CurrentVersion);
        var a20 = A20Enabled;
        _status = reader.ReadByte();
        _mode = reader.ReadByte();
        _outport = reader.ReadByte();
        _pendingCommand = reader.ReadByte();
        _kbdParameterFor = reader.ReadByte();
        _auxParameterFor = reader.ReadByte();
        _lastRead = reader.ReadByte();
        _output.Clear();
        var count = reader.ReadByte();
        for (var i = 0; i < count; i++)
            _output.Enqueue((reader.ReadByte(), reader.ReadBoolean()));
        UpdateIrq();
        if (a20 != A20Enabled)
            A20Changed?.Invoke(A20Enabled);
    }

    /// <inheritdoc/>
    protected override void OnRealize(RealizeScope scope)
    {
        _control = scope.Context.Control;
        _kbdIrq = scope.Context.IsaIrq(1);
        _auxIrq = scope.Context.IsaIrq(12);
        scope.MapPorts(0x60, MemoryRegion.Io("i8042-data", 1, new DelegateIoHandler((_, _) => ReadData(), (_, _, v) => WriteData((byte)v)), IoAccessRules.Bytes));
        scope.MapPorts(0x64, MemoryRegion.Io("i8042-cmd", 1, new DelegateIoHandler((_, _) => _status, (_, _, v) => WriteCommand((byte)v)), IoAccessRules.Bytes));
    }

    private void ResetRegisters()
    {
        _mode = ModeKbdInt | ModeAuxInt;
        _status = StatCommand | StatUnlocked;
        _outport = OutReset | OutA20 | OutOnes;
        _pendingCommand = 0;
        _kbdParameterFor = 0;
        _auxParameterFor = 0;
        _output.Clear();
    }

    private void WriteCommand(byte command)
    {
        _status |= StatCommand;
        // 0xF0-0xFF pulse output-port bits 3..0 low for 6 µs; only bit 0 (reset) has an effect.
        if ((command & 0xF0) == 0xF0)
        {
            if ((command & 1) == 0)
                _control?.RequestReset(ShutdownCause.GuestReset);
            return;
        }
        switch (command)
        {
            case 0x20:
                Queue(_mode, aux: false);
                break;
            case 0x60:
            case 0xD1:
            case 0xD2:
            case 0xD3:
            case 0xD4:
                _pendingCommand = command;
                break;
            case 0xA7:
                _mode |= ModeDisableAux;
                break;
            case 0xA8:
                _mode &= unchecked((byte)~ModeDisableAux);
                break;
            case 0xA9:
            case 0xAB:
                // Interface tests: 0 = no error.
                Queue(0x00, aux: false);
                break;
            case 0xAA:
                // Self-test passed: 0x55, and the system flag is set.
                _status |= StatSystem;
                Queue(0x55, aux: false);
                break;
            case 0xAD:
                _mode |= ModeDisableKbd;
                UpdateIrq();
                break;
            case 0xAE:
                _mode &= unchecked((byte)~ModeDisableKbd);
                UpdateIrq();
                break;
            case 0xC0:
                // Input port: keyboard not inhibited.
                Queue(0x80, aux: false);
                break;
            case 0xD0:
                Queue(_outport, aux: false);
                break;
            case 0xDD:
                SetOutputPort((byte)(_outport & ~OutA20));
                break;
            case 0xDF:
                SetOutputPort((byte)(_outport | OutA20));
                break;
            default:
                // Unsupported commands are ignored, as QEMU does (it only logs them).
                break;
        }
    }

    private void WriteData(byte value)
    {
        _status &= unchecked((byte)~StatCommand);
        var command = _pendingCommand;
        _pendingCommand = 0;
        switch (command)
        {
            case 0x60:
                _mode = value;
                // The status register's system flag follows the command byte's.
                _status = (byte)((_status & ~StatSystem) | (value & ModeSystem));
                UpdateIrq();
                break;
            case 0xD1:
                SetOutputPort(value);
                break;
            case 0xD2:
                Queue(value, aux: false);
                break;
            case 0xD3:
                Queue(value, aux: true);
                break;
            case 0xD4:
                MouseCommand(value);
                break;
            default:
                KeyboardCommand(value);
                break;
        }
    }

    private byte ReadData()
    {
        // With nothing queued a read returns the last byte again, as the PS/2 queues do in QEMU.
        if (_output.TryDequeue(out var entry))
            _lastRead = entry.Value;
        // Drop the line between bytes so an edge-triggered PIC sees each one (QEMU's ps2 does too).
        _kbdIrq.Lower();
        _auxIrq.Lower();
        UpdateIrq();
        return _lastRead;
    }

    private void SetOutputPort(byte value)
    {
        var a20 = A20Enabled;
        // The buffer-full bits are inputs to the port, not stored.
        _outport = (byte)(value & ~(OutOutputFull | OutAuxFull));
        UpdateIrq();
        if (a20 != A20Enabled)
            A20Changed?.Invoke(A20Enabled);
        if ((value & OutReset) == 0)
            _control?.RequestReset(ShutdownCause.GuestReset);
    }

    // A keyboard with no keys: acknowledges commands, answers reset and identify.
    private void KeyboardCommand(byte value)
    {
        if (_kbdParameterFor != 0)
        {
            _kbdParameterFor = 0;
            Queue(0xFA, aux: false);
            return;
        }
        switch (value)
        {
            case 0xEE:
                Queue(0xEE, aux: false);
                break;
            case 0xED:
            case 0xF0:
            case 0xF3:
                _kbdParameterFor = value;
                Queue(0xFA, aux: false);
                break;
            case 0xF2:
                Queue(0xFA, aux: false);
                Queue(0xAB, aux: false);
                Queue(0x83, aux: false);
                break;
            case 0xFF:
                Queue(0xFA, aux: false);
                Queue(0xAA, aux: false);
                break;
            default:
                Queue(0xFA, aux: false);
                break;
        }
    }

    // A mouse that never moves: acknowledges commands, answers reset, identify and status.
    private void MouseCommand(byte value)
    {
        if (_auxParameterFor != 0)
        {
            _auxParameterFor = 0;
            Queue(0xFA, aux: true);
            return;
        }
        switch (value)
        {
            case 0xE8:
            case 0xF3:
                _auxParameterFor = value;
                Queue(0xFA, aux: true);
                break;
            case 0xE9:
                Queue(0xFA, aux: true);
                Queue(0x00, aux: true);
                Queue(0x02, aux: true);
                Queue(0x64, aux: true);
                break;
            case 0xF2:
                Queue(0xFA, aux: true);
                Queue(0x00, aux: true);
                break;
            case 0xFF:
                Queue(0xFA, aux: true);
                Queue(0xAA, aux: true);
                Queue(0x00, aux: true);
                break;
            default:
                Queue(0xFA, aux: true);
                break;
        }
    }

    private void Queue(byte value, bool aux)
    {
        // Bounded like a PS/2 device queue; a guest that never reads loses the newest bytes.
        if (_output.Count < 16)
            _output.Enqueue((value, aux));
        UpdateIrq();
    }

    // OBF (and the aux flag) follow the head of the queue; IRQ 1 or 12 is its level when enabled.
    private void UpdateIrq()
    {
        _status &= unchecked((byte)~(StatOutputFull | StatAuxFull));
        _outport &= unchecked((byte)~(OutOutputFull | OutAuxFull));
        var kbd = false;
        var aux = false;
        if (_output.TryPeek(out var head))
        {
            _status |= StatOutputFull;
            _outport |= OutOutputFull;
            if (head.Aux)
            {
                _status |= StatAuxFull;
                _outport |= OutAuxFull;
                aux = (_mode & ModeAuxInt) != 0;
            }
            else
                kbd = (_mode & ModeKbdInt) != 0 && (_mode & ModeDisableKbd) == 0;
        }
        _kbdIrq.Set(kbd);
        _auxIrq.Set(aux);
    }
}
