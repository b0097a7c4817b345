using Qmp.Memory;

namespace Qmp.Machine.Devices.Pc;

/// <summary>
/// QEMU's <c>isa-debug-exit</c>: a write of V ends the emulator with exit status
/// <c>(V &lt;&lt; 1) | 1</c>, V being the whole value of the access (1, 2 or 4 bytes), so test
/// guests can report a result. Reads return 0.
/// </summary>
public sealed class IsaDebugExit : Device
{
    private ushort _ioBase = 0x501;
    private int _ioSize = 2;
    private IMachineControl? _control;

    /// <inheritdoc/>
    public override string TypeName => "isa-debug-exit";

    /// <summary>The port (QEMU's <c>iobase</c>, 0x501).</summary>
    public ushort IoBase
    {
        get => _ioBase;
        set
        {
            CheckNotRealized(nameof(IoBase));
            _ioBase = value;
        }
    }

    /// <summary>How many ports it answers (QEMU's <c>iosize</c>, 2).</summary>
    public int IoSize
    {
        get => _ioSize;
        set
        {
            CheckNotRealized(nameof(IoSize));
            _ioSize = value;
        }
    }

    /// <inheritdoc/>
    public override IEnumerable<Qom.QomProperty> QomProperties() =>
    [
        new("iosize", "uint32", () => _ioSize, v => IoSize = checked((int)Qom.QomValues.UInt32(v, "iosize"))),
        new("iobase", "uint32", () => _ioBase, v => IoBase = checked((ushort)Qom.QomValues.UInt32(v, "iobase"))),
    ];

    /// <inheritdoc/>
    protected override void OnRealize(RealizeScope scope)
    {
        if (_ioSize <= 0 || _ioBase + _ioSize > PortIoSpace.Size)
            throw new DeviceRealizeException($"{TypeName}: iosize {_ioSize} at {_ioBase:#x} does not fit the I/O space");
        _control = scope.Context.Control;
        scope.MapPorts(_ioBase, MemoryRegion.Io("isa-debug-exit", (ulong)_ioSize, new DelegateIoHandler((_, _) => 0, OnWrite), new IoAccessRules(1, 4)));
    }

    private void OnWrite(ulong offset, int size, ulong value) =>
        _control?.ExitProcess(unchecked((int)((value << 1) | 1)));
}
