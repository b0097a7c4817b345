using Iced.Intel;
using Qmp.Memory;

namespace Qmp.Cpu.X86;

/// <summary>
/// Feeds Iced the guest's code bytes through the CPU's fetch translation (paging, #PF) and
/// remembers which RAM pages the block's bytes came from, so writes there invalidate it.
/// </summary>
internal sealed unsafe class GuestCodeReader(X86Cpu cpu) : CodeReader
{
    private uint _linear;
    private uint _pageLinear = 1;
    private ulong _pagePhysical;
    private byte* _pageHost;

    public List<(RamBlock Block, long Page)> RamPages { get; } = [];

    public ulong FirstPhysical { get; private set; }

    public long FirstPage { get; private set; }

    public long LastPage { get; private set; }

    public void Start(uint linear)
    {
        _linear = linear;
        _pageLinear = 1;
        RamPages.Clear();
        FirstPhysical = cpu.TranslateFetch(linear) ;
        FirstPage = LastPage = (long)(FirstPhysical >> PageSize.Shift);
    }

    /// <summary>Linear address of the next byte Iced will read.</summary>
    public uint Position
    {
        get => _linear;
        set => _linear = value;
    }

    public override int ReadByte()
    {
        var linear = _linear++;
        if ((linear & ~0xFFFu) != _pageLinear)
            MapPage(linear);
        // SAFETY: _pageHost maps the whole RAM page holding this linear address.
        return _pageHost is not null ? _pageHost[linear & 0xFFF] : (int)cpu.Memory.Read(_pagePhysical | (linear & 0xFFF), 1);
    }

    private void MapPage(uint linear)
    {
        var physical = cpu.TranslateFetch(linear) & ~0xFFFUL;
        _pageLinear = linear & ~0xFFFu;
        _pagePhysical = physical;
        _pageHost = null;
        LastPage = (long)(physical >> PageSize.Shift);
        var range = cpu.Memory.Find(physical);
        if (range is not null && range.Region.Kind != MemoryRegionKind.Io && range.Start <= physical && range.End >= physical + PageSize.Bytes)
        {
            var block = range.Region.Block!;
            var offset = range.BlockOffsetOf(physical);
            _pageHost = block.Host + offset;
            RamPages.Add((block, offset >> PageSize.Shift));
        }
    }
}
