namespace Qmp.Cpu.X86;

/// <summary>General register numbers in encoding order.</summary>
internal static class Gpr32
{
    public const int Eax = 0;
    public const int Ecx = 1;
    public const int Edx = 2;
    public const int Ebx = 3;
    public const int Esp = 4;
    public const int Ebp = 5;
    public const int Esi = 6;
    public const int Edi = 7;
    public const int Zero = 8;
}
