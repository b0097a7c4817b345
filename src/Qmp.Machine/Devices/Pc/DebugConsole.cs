using Qmp.Machine.Chardevs;
using Qmp.Memory;

namespace Qmp.Machine.Devices.Pc;

/// <summary>
/// QEMU's <c>isa-debugcon</c>: bytes written to the port (0xe9, Bochs' debug port) go to the
/// backend; reads return <see cref="Readback"/> (0xe9), which guests use to detect the port.
/// </summary>
public sealed class DebugConsole : Device
{
    private ushort _ioBase = 0xE9;
    private byte _readback = 0xE9;
    private ICharBackend? _backend;

    /// <inheritdoc/>
    public override string TypeName => "isa-debugcon";

    /// <summary>The port (QEMU's <c>iobase</c>, 0xe9).</summary>
    public ushort IoBase
    {
        get => _ioBase;
        set
        {
            CheckNotRealized(nameof(IoBase));
            _ioBase = value;
        }
    }

    /// <summary>What reads return (QEMU's <c>readback</c>, 0xe9).</summary>
    public byte Readback
    {
        get => _readback;
        set
        {
            CheckNotRealized(nameof(Readback));
            _readback = value;
        }
    }

    /// <summary>Where output goes (QEMU's <c>chardev</c>); null drops it.</summary>
    public ICharBackend? Backend
    {
        get => _backend;
        set
        {
            CheckNotRealized(nameof(Backend));
            _backend = value;
        }
    }

    /// <inheritdoc/>
    public override IEnumerable<Qom.QomProperty> QomProperties() =>
    [
        new("iobase", "uint32", () => (long)IoBase, v => IoBase = checked((ushort)Qom.QomValues.UInt32(v, "iobase"))),
        new("readback", "uint32", () => (long)Readback, v => Readback = checked((byte)Qom.QomValues.UInt32(v, "readback"))),
    ];

    /// <inheritdoc/>
    protected override void OnRealize(RealizeScope scope) =>
        scope.MapPorts(_ioBase, MemoryRegion.Io("isa-debugcon", 1, new DelegateIoHandler((_, _) => _readback, OnWrite), IoAccessRules.Bytes));

    private void OnWrite(ulong offset, int size, ulong value) => _backend?.Write([(byte)value]);
}
