namespace Qmp.Cpu.X86;

/// <summary>Segment register numbers, in the order the instruction encoding uses.</summary>
internal static class SegmentRegister
{
    public const int ES = 0;
    public const int CS = 1;
    public const int SS = 2;
    public const int DS = 3;
    public const int FS = 4;
    public const int GS = 5;
    public const int Count = 6;

    public static string Name(int seg) => seg switch { ES => "ES", CS => "CS", SS => "SS", DS => "DS", FS => "FS", _ => "GS" };
}
