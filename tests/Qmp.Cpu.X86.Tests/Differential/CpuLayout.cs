namespace Qmp.Cpu.X86.Tests.Differential;

/// <summary>
/// The fixed guest layout shared by the native harness (Native/harness.c) and the emulator side
/// of the differential tests: a flat 32-bit user-mode address space with one code window and
/// one data window (data page followed by a stack page). Nothing else is mapped nearby, so an
/// access outside the windows is a #PF.
/// </summary>
internal static class CpuLayout
{
    public const uint CodeBase = 0x3000_0000;
    public const int CodeSize = 0x1_0000;

    /// <summary>Bytes the harness keeps at the end of the code window for its own return jump.</summary>
    public const int CodeTail = 16;

    public const int MaxCodeLength = CodeSize - CodeTail;

    public const uint DataBase = 0x2000_0000;
    public const int DataSize = 0x2000;

    /// <summary>Offset of the stack page inside the data window.</summary>
    public const int StackPageOffset = 0x1000;

    public const uint StackPageBase = DataBase + StackPageOffset;
    public const uint DataEnd = DataBase + DataSize;
    public const uint DefaultStackPointer = 0x2000_1800;

    public const int RegisterCount = 8;

    // Register order of a case and an outcome (the x86 encoding order).
    public const int Eax = 0;
    public const int Ecx = 1;
    public const int Edx = 2;
    public const int Ebx = 3;
    public const int Esp = 4;
    public const int Ebp = 5;
    public const int Esi = 6;
    public const int Edi = 7;

    public static readonly string[] RegisterNames = ["EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"];

    public const uint CF = 1u << 0;
    public const uint ReservedOne = 1u << 1;
    public const uint PF = 1u << 2;
    public const uint AF = 1u << 4;
    public const uint ZF = 1u << 6;
    public const uint SF = 1u << 7;
    public const uint TF = 1u << 8;
    public const uint IF = 1u << 9;
    public const uint DF = 1u << 10;
    public const uint OF = 1u << 11;

    public const uint StatusFlags = CF | PF | AF | ZF | SF | OF;

    /// <summary>The input EFLAGS bits a case controls; the harness ignores the rest.</summary>
    public const uint InputFlags = StatusFlags | DF;

    /// <summary>Bits Linux user mode always has set (IF and reserved bit 1).</summary>
    public const uint ForcedFlags = IF | ReservedOne;

    /// <summary>
    /// The EFLAGS bits worth comparing at all: the low 12 bits (status flags, DF, and the bits that
    /// are fixed in user mode). Above them are RF/VM/AC/ID and friends, which the cases never touch.
    /// </summary>
    public const uint ComparedFlags = 0x0000_0FFF;

    /// <summary>Vector value in the wire format for "no exception".</summary>
    public const uint NoFaultVector = 0xFFFF_FFFF;

    /// <summary>Vector value in the wire format for "stopped by the harness watchdog".</summary>
    public const uint TimeoutVector = 0xFFFF_FFFE;

    // Exception vectors the cases provoke on purpose.
    public const uint DivideError = 0;
    public const uint DebugTrap = 1;
    public const uint Breakpoint = 3;
    public const uint Overflow = 4;
    public const uint BoundRange = 5;
    public const uint InvalidOpcode = 6;
    public const uint GeneralProtection = 13;
    public const uint PageFault = 14;

    /// <summary>The EFLAGS value the harness actually loads for a case's input flags.</summary>
    public static uint EffectiveInputFlags(uint eflags) => (eflags & InputFlags) | ForcedFlags;

    public static bool IsInDataWindow(uint address, int size) =>
        address >= DataBase && size <= DataSize && address - DataBase <= (uint)(DataSize - size);
}
