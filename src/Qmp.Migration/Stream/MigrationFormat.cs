namespace Qmp.Migration.Stream;

/// <summary>
/// The qmpd migration stream (version 2). All integers are little-endian; a <c>str</c> is a u16 byte
/// count and UTF-8 bytes.
/// <code>
///  +----------------------+--------------+
///  | magic "QMPDMIG\n"    | version u32  |   header, once
///  +----------------------+--------------+
///  | 0x01 CONFIG | len u32 | machine type str | blocks u16 | { name str | size u64 }* |
///  |             |         | has-uuid u8 | [uuid 16 bytes]                           |   once, first
///  +-------------+---------------------------------------------------------------------+
///  | 0x02 RAM    | kind u8 | block u16 | pages u32 | offset u64 | [pages x 4096 bytes] |   any number,
///  |             |   a run of consecutive pages from the byte offset (page aligned):   |   each pass
///  |             |   kind 0 = all zero, nothing follows (at most the block);           |
///  |             |   kind 1 = their data follows (at most 256 pages)                   |
///  +-------------+---------------------------------------------------------------------+
///  | 0x03 SECTION| name str | instance u32 | version u32 | len u32 | payload            |   device state,
///  |             |   "globalstate" (source run state), "timer" (guest clock), "cpu",  |   after the last
///  |             |   then every IStatefulDevice by its SectionName                     |   RAM record
///  +-------------+---------------------------------------------------------------------+
///  | 0x04 END    |                                                                     |   once, last
///  +-------------+---------------------------------------------------------------------+
/// </code>
/// On a socket the destination answers on the same connection after END (or as soon as it refuses):
/// <c>0x00</c> loaded, or <c>0x01</c> + reason str, so the source's error-desc says why a destination refused.
/// </summary>
internal static class MigrationFormat
{
    /// <summary>The 8 bytes a stream starts with.</summary>
    public static ReadOnlySpan<byte> Magic => "QMPDMIG\n"u8;

    /// <summary>The stream version this build writes and reads.</summary>
    /// <remarks>2: RAM records carry runs of pages (1 had one header per page).</remarks>
    public const uint Version = 2;

    /// <summary>Guest page size on the wire.</summary>
    public const int PageSize = 4096;

    /// <summary>Bytes of a RAM record's header after its tag: kind, block, pages, offset.</summary>
    public const int RamHeaderSize = 1 + 2 + 4 + 8;

    /// <summary>RAM record kind: a run of zero pages, no data follows.</summary>
    public const byte RamZero = 0;

    /// <summary>RAM record kind: a run of pages with their data.</summary>
    public const byte RamData = 1;

    /// <summary>Most pages in one RAM record with data (1 MiB: pacing and cancel stay fine-grained).</summary>
    public const int MaxPagesPerRecord = 256;

    /// <summary>Return-path byte: the destination loaded the stream.</summary>
    public const byte AckOk = 0;

    /// <summary>Return-path byte: the destination refused; a reason str follows.</summary>
    public const byte AckError = 1;

    /// <summary>Section of the source's run state before it stopped (QEMU's globalstate).</summary>
    public const string GlobalStateSection = "globalstate";

    /// <summary>Section of the guest's virtual clock.</summary>
    public const string TimerSection = "timer";

    /// <summary>Section of the vCPU.</summary>
    public const string CpuSection = "cpu";
}
