namespace Qmp.Cpu.X86;

public sealed partial class X86Cpu
{
    /// <summary>#GP(0) when a near branch target lies past the CS limit.</summary>
    internal void CheckNearBranch(uint target)
    {
        if (target > Cs.Limit)
            throw Fault(CpuException.GP, 0);
    }

    internal void NearBranch(uint target)
    {
        if (target > Cs.Limit)
            throw Fault(CpuException.GP, 0);
        Eip = target;
    }
}
