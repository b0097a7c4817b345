namespace Qmp.Cpu.X86;

/// <summary>Exception vectors of the x86 architecture.</summary>
internal static class CpuException
{
    public const int DE = 0;
    public const int DB = 1;
    public const int NMI = 2;
    public const int BP = 3;
    public const int OF = 4;
    public const int BR = 5;
    public const int UD = 6;
    public const int NM = 7;
    public const int DF = 8;
    public const int TS = 10;
    public const int NP = 11;
    public const int SS = 12;
    public const int GP = 13;
    public const int PF = 14;
    public const int MF = 16;
    public const int AC = 17;

    /// <summary>Vectors that push an error code.</summary>
    public static bool HasErrorCode(int vector) => vector is DF or TS or NP or SS or GP or PF or AC;

    /// <summary>Contributory exceptions, for double-fault escalation.</summary>
    public static bool IsContributory(int vector) => vector is DE or TS or NP or SS or GP;
}
