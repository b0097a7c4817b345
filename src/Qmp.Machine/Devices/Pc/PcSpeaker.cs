using Qmp.Memory;

namespace Qmp.Machine.Devices.Pc;

/// <summary>
/// Port 0x61 as QEMU's <c>isa-pcspk</c> serves it: bit 0 is PIT channel 2's gate, bit 1
/// enables the speaker data, bit 4 toggles on every read (the DRAM refresh indicator BIOS delay
/// loops poll) and bit 5 is channel 2's OUT. No sound is produced.
/// </summary>
public sealed class PcSpeaker : Device, IStatefulDevice
{
    private const int CurrentVersion = 1;

    private ushort _ioBase = 0x61;
    private Pit8254? _pit;
    private bool _dataOn;
    private byte _refresh;

    /// <inheritdoc/>
    public override string TypeName => "isa-pcspk";

    /// <inheritdoc/>
    public string SectionName => "pcspk";

    /// <inheritdoc/>
    public int StateVersion => CurrentVersion;

    /// <summary>The port (QEMU's <c>iobase</c>, 0x61).</summary>
    public ushort IoBase
    {
        get => _ioBase;
        set
        {
            CheckNotRealized(nameof(IoBase));
            _ioBase = value;
        }
    }

    /// <summary>The PIT whose channel 2 this port gates and reads (QEMU's <c>pit</c> link); required.</summary>
    public Pit8254? Pit
    {
        get => _pit;
        set
        {
            CheckNotRealized(nameof(Pit));
            _pit = value;
        }
    }

    /// <summary>Whether the speaker data bit (bit 1) is set.</summary>
    public bool DataOn => _dataOn;

    /// <summary>System reset: speaker data off (the PIT resets channel 2's gate itself).</summary>
    public void Reset() => _dataOn = false;

    /// <inheritdoc/>
    public void SaveState(BinaryWriter writer)
    {
        writer.Write(_dataOn);
        writer.Write(_refresh);
    }

    /// <inheritdoc/>
    public void LoadState(BinaryReader reader, int version)
    {
        StateSections.CheckVersion(SectionName, version, CurrentVersion);
        _dataOn = reader.ReadBoolean();
        _refresh = (byte)(reader.ReadByte() & 0x10);
    }

    /// <inheritdoc/>
    protected override void OnRealize(RealizeScope scope)
    {
        if (_pit is null)
            throw new DeviceRealizeException($"{TypeName}: property 'pit' is required");
        scope.MapPorts(_ioBase, MemoryRegion.Io("pcspk", 1, new DelegateIoHandler(Read, Write), IoAccessRules.Bytes));
    }

    private ulong Read(ulong offset, int size)
    {
        var pit = _pit!;
        _refresh ^= 0x10;
        return (pit.GetGate(2) ? 1u : 0) | (_dataOn ? 2u : 0) | _refresh | (pit.GetOut(2) ? 0x20u : 0);
    }

    private void Write(ulong offset, int size, ulong value)
    {
        _dataOn = (value & 2) != 0;
        _pit!.SetGate(2, (value & 1) != 0);
    }
}
