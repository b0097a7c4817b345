namespace Qmp.Cpu.X86;

public sealed partial class X86Cpu
{
    /// <summary>
    /// Translates a virtual address as a debugger or QMP <c>memsave</c> does: the CPU's current
    /// paging, without setting accessed or dirty bits, without faulting and without touching the TLB.
    /// With paging off the address is physical as it stands (all 64 bits, as QEMU's i386 target
    /// keeps them); with paging on only its low 32 bits are a linear address. Returns null when
    /// the page is not mapped. Call on the machine thread (it reads the control registers).
    /// </summary>
    public ulong? DebugTranslate(ulong address)
    {
        if (!PagingEnabled)
            return address;
        var linear = (uint)address;
        return (Cr4 & 0x20) != 0 ? DebugWalkPae(linear) : DebugWalk32(linear);
    }

    private ulong? DebugWalk32(uint linear)
    {
        var pde = (uint)_memory.Read((Cr3 & 0xFFFFF000u) + ((linear >> 20) & 0xFFC), 4);
        if ((pde & PteP) == 0)
            return null;
        if ((pde & PtePs) != 0 && (Cr4 & 0x10) != 0)
            return (pde & 0xFFC00000u) | (linear & 0x3FFFFF);
        var pte = (uint)_memory.Read((pde & 0xFFFFF000u) + ((linear >> 10) & 0xFFC), 4);
        return (pte & PteP) == 0 ? null : (pte & 0xFFFFF000u) | (linear & 0xFFF);
    }

    private ulong? DebugWalkPae(uint linear)
    {
        const ulong frame = 0x000FFFFFFFFFF000;
        var pdpte = _memory.Read((Cr3 & 0xFFFFFFE0u) + ((linear >> 30) * 8), 8);
        if ((pdpte & PteP) == 0)
            return null;
        var pde = _memory.Read((pdpte & frame) + (((linear >> 21) & 0x1FF) * 8), 8);
        if ((pde & PteP) == 0)
            return null;
        if ((pde & PtePs) != 0)
            return (pde & 0x000FFFFFFFE00000) | (linear & 0x1FFFFF);
        var pte = _memory.Read((pde & frame) + (((linear >> 12) & 0x1FF) * 8), 8);
        return (pte & PteP) == 0 ? null : (pte & frame) | (linear & 0xFFF);
    }
}
