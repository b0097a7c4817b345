using System.Buffers.Binary;
using System.Text;
using Qmp.Machine.Devices.Pc;
using Qmp.Memory;

namespace Qmp.Machine.Devices.FwCfg;

/// <summary>
/// QEMU's firmware configuration interface on the PC I/O ports (<c>fw_cfg_io</c>): a 16-bit
/// selector at 0x510, an 8-bit data port streaming the selected item at 0x511, and the DMA
/// interface at 0x514 (big-endian descriptor address, high half at 0x514, low half at 0x518;
/// the low write runs the transfer). It serves the items QEMU's pc machine puts there, a file
/// directory sorted by name, and files added by the board or <c>-fw_cfg</c>. The contents are
/// fixed at realize and rebuilt from the configuration, so only the access state migrates.
/// </summary>
public sealed partial class FwCfg : Device, IStatefulDevice
{
    /// <summary>The selector port; the data port is the next one.</summary>
    public const ushort SelectorPort = 0x510;

    /// <summary>The data port.</summary>
    public const ushort DataPort = 0x511;

    /// <summary>The DMA address register (8 ports, big-endian).</summary>
    public const ushort DmaPort = 0x514;

    /// <summary>What reads of the DMA register return: "QEMU CFG" big-endian.</summary>
    public const ulong DmaSignature = 0x51454d5520434647;

    /// <summary>Longest file name (the directory holds 56 bytes with the terminating NUL).</summary>
    public const int MaxFileNameLength = 55;

    /// <summary>Directory slots (QEMU's <c>x-file-slots</c> default since 2.9).</summary>
    public const int FileSlots = 0x20;

    private const int CurrentVersion = 1;
    private const int MaxEntry = FwCfgKeys.FileFirst + FileSlots;
    private const int DirectoryEntrySize = 64;
    private const int NameFieldSize = 56;
    private const uint VersionTraditional = 0x01;
    private const uint VersionDma = 0x02;
    private const int ZeroChunk = 4096;

    private static readonly byte[] _zeros = new byte[ZeroChunk];

    private readonly List<(string Name, byte[] Data, bool Writable)> _addedFiles = [];
    private readonly SortedDictionary<ushort, byte[]> _addedItems = new();
    private readonly FwCfgEntry?[][] _entries = [new FwCfgEntry?[MaxEntry], new FwCfgEntry?[MaxEntry]];
    private FwCfgFile[] _directory = [];

    private long _ramSize = 128L << 20;
    private int _cpuCount = 1;
    private int? _maxCpus;
    private Guid _uuid;
    private bool _noGraphic;
    private bool _bootMenu;
    private int _rebootTimeout = -1;
    private bool _dmaEnabled = true;

    private AddressSpace? _memory;
    private ushort _current;
    private uint _offset;
    private ulong _dmaAddress;

    /// <inheritdoc/>
    public override string TypeName => "fw_cfg_io";

    /// <inheritdoc/>
    public string SectionName => "fw_cfg";

    /// <inheritdoc/>
    public int StateVersion => CurrentVersion;

    /// <summary>Guest RAM in bytes (item 0x0003, 64-bit little-endian).</summary>
    public long RamSize
    {
        get => _ramSize;
        set
        {
            CheckNotRealized(nameof(RamSize));
            _ramSize = value;
        }
    }

    /// <summary>vCPUs present at boot (item 0x0005, 16-bit little-endian).</summary>
    public int CpuCount
    {
        get => _cpuCount;
        set
        {
            CheckNotRealized(nameof(CpuCount));
            _cpuCount = value;
        }
    }

    /// <summary>
    /// Item 0x000f; on x86 QEMU puts the APIC ID limit there, which is <c>maxcpus</c> for the
    /// plain topologies this board has. Null takes <see cref="CpuCount"/>.
    /// </summary>
    public int? MaxCpus
    {
        get => _maxCpus;
        set
        {
            CheckNotRealized(nameof(MaxCpus));
            _maxCpus = value;
        }
    }

    /// <summary>The <c>-uuid</c> (item 0x0002, 16 bytes in RFC 4122 order); all zeroes by default.</summary>
    public Guid Uuid
    {
        get => _uuid;
        set
        {
            CheckNotRealized(nameof(Uuid));
            _uuid = value;
        }
    }

    /// <summary>Whether the machine has no graphics (item 0x0004, 16-bit).</summary>
    public bool NoGraphic
    {
        get => _noGraphic;
        set
        {
            CheckNotRealized(nameof(NoGraphic));
            _noGraphic = value;
        }
    }

    /// <summary><c>-boot menu=on</c> (item 0x000e, 16-bit).</summary>
    public bool BootMenu
    {
        get => _bootMenu;
        set
        {
            CheckNotRealized(nameof(BootMenu));
            _bootMenu = value;
        }
    }

    /// <summary><c>-boot reboot-timeout</c> in ms, -1 (never) to 65535 (file <c>etc/boot-fail-wait</c>).</summary>
    public int RebootTimeout
    {
        get => _rebootTimeout;
        set
        {
            CheckNotRealized(nameof(RebootTimeout));
            _rebootTimeout = value;
        }
    }

    /// <summary>QEMU's <c>dma_enabled</c>: maps the DMA register and sets bit 1 of the ID item.</summary>
    public bool DmaEnabled
    {
        get => _dmaEnabled;
        set
        {
            CheckNotRealized(nameof(DmaEnabled));
            _dmaEnabled = value;
        }
    }

    /// <summary>The file directory in selector order (sorted by name); empty until realized.</summary>
    public IReadOnlyList<FwCfgFile> Files => _directory.AsReadOnly();

    /// <summary>
    /// Adds a file to the directory before realize. Realize refuses a duplicate name ("duplicate
    /// fw_cfg file name"), a name over 55 bytes, and more files than the 32 slots. Only a writable
    /// file accepts DMA writes from the guest.
    /// </summary>
    /// <exception cref="InvalidOperationException">The device is realized: the directory is fixed.</exception>
    public void AddFile(string name, byte[] data, bool writable = false)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(data);
        if (Realized)
            throw new InvalidOperationException($"{TypeName}: cannot add file '{name}': the file directory is fixed once realized");
        _addedFiles.Add((name, (byte[])data.Clone(), writable));
    }

    /// <summary>Adds the <c>etc/e820</c> file from <paramref name="entries"/>, as QEMU's pc board does.</summary>
    /// <exception cref="InvalidOperationException">The device is realized.</exception>
    public void AddE820Table(IEnumerable<FwCfgE820Entry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var list = entries.ToList();
        var data = new byte[list.Count * FwCfgE820Entry.Size];
        for (var i = 0; i < list.Count; i++)
        {
            var slot = data.AsSpan(i * FwCfgE820Entry.Size);
            BinaryPrimitives.WriteUInt64LittleEndian(slot, list[i].Address);
            BinaryPrimitives.WriteUInt64LittleEndian(slot[8..], list[i].Length);
            BinaryPrimitives.WriteUInt32LittleEndian(slot[16..], list[i].Type);
        }
        AddFile("etc/e820", data);
    }

    /// <summary>
    /// Adds (or replaces) a numbered item, e.g. the kernel items 0x07..0x18 or x86 items such as
    /// 0x8004 (HPET). Allowed before and after realize, since numbered items are not in the
    /// directory; a later call for the same key replaces the bytes, as QEMU's fw_cfg_modify_*.
    /// </summary>
    /// <exception cref="ArgumentException">The key is a file slot, the write channel, or an item this device fills itself.</exception>
    public void AddItem(ushort key, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if ((key & FwCfgKeys.WriteChannel) != 0 || (key & FwCfgKeys.EntryMask) >= FwCfgKeys.FileFirst)
            throw new ArgumentOutOfRangeException(nameof(key), $"fw_cfg key {key:#x} is not a numbered item (0x00..0x1f, or 0x8000..0x801f)");
        if (IsOwnItem(key))
            throw new ArgumentException($"fw_cfg key {key:#x} is filled by the device itself", nameof(key));
        var copy = (byte[])data.Clone();
        _addedItems[key] = copy;
        if (Realized)
            Table(key)[key & FwCfgKeys.EntryMask] = new FwCfgEntry(copy, writable: false);
    }

    /// <summary>System reset: selects the signature item (offset 0) and forgets a half-written DMA address.</summary>
    public void Reset()
    {
        Select(FwCfgKeys.Signature);
        _dmaAddress = 0;
    }

    /// <inheritdoc/>
    public void SaveState(BinaryWriter writer)
    {
        writer.Write(_current);
        writer.Write(_offset);
        writer.Write(_dmaAddress);
    }

    /// <inheritdoc/>
    public void LoadState(BinaryReader reader, int version)
    {
        StateSections.CheckVersion(SectionName, version, CurrentVersion);
        var current = reader.ReadUInt16();
        var offset = reader.ReadUInt32();
        var dmaAddress = reader.ReadUInt64();
        if (current != FwCfgKeys.Invalid && (current & FwCfgKeys.EntryMask) >= MaxEntry)
            throw new InvalidDataException($"section '{SectionName}': selector {current:#x} is out of range");
        _current = current;
        _offset = offset;
        _dmaAddress = dmaAddress;
    }

    /// <inheritdoc/>
    public override IEnumerable<Qom.QomProperty> QomProperties() =>
    [
        new("dma_enabled", "bool", () => DmaEnabled, v => DmaEnabled = Qom.QomValues.Bool(v, "dma_enabled")),
    ];

    /// <inheritdoc/>
    protected override void OnRealize(RealizeScope scope)
    {
        var maxCpus = _maxCpus ?? _cpuCount;
        if (_cpuCount is < 1 or > ushort.MaxValue)
            throw new DeviceRealizeException($"{TypeName}: CPU count {_cpuCount} must lie between 1 and 65535");
        if (maxCpus < _cpuCount || maxCpus > ushort.MaxValue)
            throw new DeviceRealizeException($"{TypeName}: max CPUs {maxCpus} must lie between the CPU count {_cpuCount} and 65535");
        if (_ramSize < 0)
            throw new DeviceRealizeException($"{TypeName}: RAM size {_ramSize} is negative");
        if (_rebootTimeout is < -1 or > ushort.MaxValue)
            throw new DeviceRealizeException("reboot timeout is invalid,it should be a value between -1 and 65535");

        var directory = BuildDirectory(out var files);
        Array.Clear(_entries[0]);
        Array.Clear(_entries[1]);
        foreach (var (key, data) in BuildItems(maxCpus))
            Table(key)[key & FwCfgKeys.EntryMask] = new FwCfgEntry(data, writable: false);
        foreach (var (key, data) in _addedItems)
            Table(key)[key & FwCfgKeys.EntryMask] = new FwCfgEntry(data, writable: false);
        _entries[0][FwCfgKeys.FileDir] = new FwCfgEntry(DirectoryBytes(directory), writable: false);
        for (var i = 0; i < files.Count; i++)
            _entries[0][FwCfgKeys.FileFirst + i] = files[i];
        _directory = directory;
        _memory = scope.Context.Memory;
        scope.OnUndo(() => _directory = []);
        Select(FwCfgKeys.Signature);
        _dmaAddress = 0;

        // The data port always overlaps the selector's high byte: the I/O region is 2 ports.
        scope.MapPorts(SelectorPort, MemoryRegion.Io("fwcfg", 2, new DelegateIoHandler(ReadCombined, WriteCombined), new IoAccessRules(1, 2)));
        if (_dmaEnabled)
            scope.MapPorts(DmaPort, MemoryRegion.Io("fwcfg.dma", 8, new DelegateIoHandler(ReadDma, WriteDma), new IoAccessRules(1, 8)));
    }

    private static bool IsOwnItem(ushort key) => key is FwCfgKeys.Signature or FwCfgKeys.Id or FwCfgKeys.Uuid or FwCfgKeys.RamSize
        or FwCfgKeys.NoGraphic or FwCfgKeys.NbCpus or FwCfgKeys.Numa or FwCfgKeys.BootMenu or FwCfgKeys.MaxCpus
        or FwCfgKeys.FileDir or FwCfgKeys.Irq0Override;

    private static byte[] Le16(int value)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)value);
        return b;
    }

    private static byte[] Le32(uint value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return b;
    }

    private static byte[] Le64(ulong value)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return b;
    }

    private static byte[] DirectoryBytes(FwCfgFile[] directory)
    {
        // QEMU allocates the whole slot array up front, so the item is always this long.
        var bytes = new byte[4 + (DirectoryEntrySize * FileSlots)];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)directory.Length);
        for (var i = 0; i < directory.Length; i++)
        {
            var slot = bytes.AsSpan(4 + (i * DirectoryEntrySize), DirectoryEntrySize);
            BinaryPrimitives.WriteUInt32BigEndian(slot, (uint)directory[i].Size);
            BinaryPrimitives.WriteUInt16BigEndian(slot[4..], directory[i].Select);
            Encoding.UTF8.GetBytes(directory[i].Name, slot.Slice(8, NameFieldSize));
        }
        return bytes;
    }

    // What fw_cfg_common_realize, fw_cfg_arch_create and the first machine reset add on pc.
    private List<(ushort Key, byte[] Data)> BuildItems(int maxCpus)
    {
        var id = VersionTraditional | (_dmaEnabled ? VersionDma : 0);
        return
        [
            (FwCfgKeys.Signature, "QEMU"u8.ToArray()),
            (FwCfgKeys.Id, Le32(id)),
            (FwCfgKeys.Uuid, _uuid.ToByteArray(bigEndian: true)),
            (FwCfgKeys.RamSize, Le64((ulong)_ramSize)),
            (FwCfgKeys.NoGraphic, Le16(_noGraphic ? 1 : 0)),
            (FwCfgKeys.NbCpus, Le16(_cpuCount)),
            // One word for the node count, one per APIC ID, one per node: all zero without NUMA.
            (FwCfgKeys.Numa, new byte[(1 + maxCpus) * 8]),
            (FwCfgKeys.BootMenu, Le16(_bootMenu ? 1 : 0)),
            (FwCfgKeys.MaxCpus, Le16(maxCpus)),
            (FwCfgKeys.Irq0Override, Le32(1)),
        ];
    }

    private FwCfgFile[] BuildDirectory(out List<FwCfgEntry> entries)
    {
        // bootorder and bios-geometry are (re)built by QEMU's machine reset; empty without bootindex.
        var all = new List<(string Name, byte[] Data, bool Writable)>
        {
            ("etc/boot-fail-wait", Le32(unchecked((uint)_rebootTimeout)), false),
            ("bootorder", [], false),
            ("bios-geometry", [], false),
        };
        all.AddRange(_addedFiles);
        var named = new List<(byte[] Key, string Name, byte[] Data, bool Writable)>();
        foreach (var (name, data, writable) in all)
        {
            var key = Encoding.UTF8.GetBytes(name);
            if (key.Length == 0)
                throw new DeviceRealizeException($"{TypeName}: a fw_cfg file needs a name");
            if (key.Length > MaxFileNameLength)
                throw new DeviceRealizeException($"name too long (max. {MaxFileNameLength} char)");
            if (named.Exists(n => n.Key.AsSpan().SequenceEqual(key)))
                throw new DeviceRealizeException($"duplicate fw_cfg file name: {name}");
            named.Add((key, name, data, writable));
        }
        if (named.Count > FileSlots)
            throw new DeviceRealizeException($"{TypeName}: {named.Count} fw_cfg files do not fit the {FileSlots} directory slots");
        // QEMU inserts each file at its strcmp position and renumbers, so select = 0x20 + sorted index.
        named.Sort((a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
        entries = [];
        var directory = new FwCfgFile[named.Count];
        for (var i = 0; i < named.Count; i++)
        {
            // Writable files get their own copy, so guest writes do not reach the added bytes.
            var data = named[i].Writable ? (byte[])named[i].Data.Clone() : named[i].Data;
            entries.Add(new FwCfgEntry(data, named[i].Writable));
            directory[i] = new FwCfgFile(named[i].Name, (ushort)(FwCfgKeys.FileFirst + i), data.Length);
        }
        return directory;
    }

    private FwCfgEntry?[] Table(ushort key) => _entries[(key & FwCfgKeys.ArchLocal) != 0 ? 1 : 0];

    private FwCfgEntry? Current => _current == FwCfgKeys.Invalid ? null : Table(_current)[_current & FwCfgKeys.EntryMask];

    private void Select(ushort key)
    {
        _offset = 0;
        _current = (key & FwCfgKeys.EntryMask) >= MaxEntry ? FwCfgKeys.Invalid : key;
    }

    // Both ports of the combined region read data bytes; a 16-bit write selects, byte writes are
    // ignored (data-port writes were dropped in QEMU 2.4), and wider reads are invalid (0).
    private ulong ReadCombined(ulong offset, int size)
    {
        if (size != 1)
            return 0;
        var entry = Current;
        if (entry is null || _offset >= (uint)entry.Data.Length)
            return 0;
        return entry.Data[_offset++];
    }

    private void WriteCombined(ulong offset, int size, ulong value)
    {
        if (size == 2)
            Select((ushort)value);
    }
}
