namespace Qmp.Cpu.X86;

public sealed partial class X86Cpu
{
    private const uint PteP = 1, PteRw = 2, PteUs = 4, PteA = 0x20, PteD = 0x40, PtePs = 0x80;

    /// <summary>Access kinds of a translation, as the #PF error code and the TLB distinguish them.</summary>
    internal enum Access { Read, Write, Fetch }

    /// <summary>
    /// Walks the page tables for <paramref name="linear"/> (32-bit or PAE), setting accessed and
    /// dirty bits, and returns the physical address and whether the page may be written by this
    /// privilege. Throws #PF with CR2 and the error code on a violation.
    /// </summary>
    internal ulong TranslatePage(uint linear, Access access, out bool writable)
    {
        var user = CplIsUser;
        if (!PagingEnabled)
        {
            writable = true;
            return linear;
        }
        var write = access == Access.Write;
        var wp = (Cr0 & 0x10000) != 0;
        ulong phys;
        uint rights;
        if ((Cr4 & 0x20) != 0)
            phys = WalkPae(linear, write, out rights);
        else
            phys = Walk32(linear, write, out rights);
        // rights: RW and US combined over the levels (AND), checked after the walk as hardware does.
        var rw = (rights & PteRw) != 0;
        var us = (rights & PteUs) != 0;
        var allowed = user ? us && (!write || rw) : !write || rw || !wp;
        if (!allowed)
            throw PageFault(linear, 1u | (write ? 2u : 0) | (user ? 4u : 0));
        writable = user ? us && rw : rw || !wp;
        return phys;
    }

    private ulong Walk32(uint linear, bool write, out uint rights)
    {
        var pdeAddress = (Cr3 & 0xFFFFF000u) + ((linear >> 20) & 0xFFC);
        var pde = (uint)_memory.Read(pdeAddress, 4);
        if ((pde & PteP) == 0)
            throw PageFault(linear, (write ? 2u : 0) | (CplIsUser ? 4u : 0));
        if ((pde & PtePs) != 0 && (Cr4 & 0x10) != 0)
        {
            rights = pde;
            var wanted = pde | PteA | (write && PermitsWrite(pde) ? PteD : 0);
            if (wanted != pde)
                _memory.Write(pdeAddress, 4, wanted);
            return (pde & 0xFFC00000u) | (linear & 0x3FFFFF);
        }
        if ((pde & PteA) == 0)
            _memory.Write(pdeAddress, 4, pde | PteA);
        var pteAddress = (pde & 0xFFFFF000u) + ((linear >> 10) & 0xFFC);
        var pte = (uint)_memory.Read(pteAddress, 4);
        if ((pte & PteP) == 0)
            throw PageFault(linear, (write ? 2u : 0) | (CplIsUser ? 4u : 0));
        rights = pde & pte;
        var updated = pte | PteA | (write && PermitsWrite(rights) ? PteD : 0);
        if (updated != pte)
            _memory.Write(pteAddress, 4, updated);
        return (pte & 0xFFFFF000u) | (linear & 0xFFF);
    }

    private ulong WalkPae(uint linear, bool write, out uint rights)
    {
        const ulong frame = 0x000FFFFFFFFFF000;
        var pdpteAddress = (Cr3 & 0xFFFFFFE0u) + ((linear >> 30) * 8);
        var pdpte = _memory.Read(pdpteAddress, 8);
        var userBit = CplIsUser ? 4u : 0;
        var writeBit = write ? 2u : 0;
        if ((pdpte & PteP) == 0)
            throw PageFault(linear, writeBit | userBit);
        var pdeAddress = (pdpte & frame) + (((linear >> 21) & 0x1FF) * 8);
        var pde = _memory.Read(pdeAddress, 8);
        if ((pde & PteP) == 0)
            throw PageFault(linear, writeBit | userBit);
        if ((pde & PtePs) != 0)
        {
            rights = (uint)pde;
            var wanted = pde | PteA | (write && PermitsWrite((uint)pde) ? PteD : 0);
            if (wanted != pde)
                _memory.Write(pdeAddress, 8, wanted);
            return (pde & 0x000FFFFFFFE00000) | (linear & 0x1FFFFF);
        }
        if ((pde & PteA) == 0)
            _memory.Write(pdeAddress, 8, pde | PteA);
        var pteAddress = (pde & frame) + (((linear >> 12) & 0x1FF) * 8);
        var pte = _memory.Read(pteAddress, 8);
        if ((pte & PteP) == 0)
            throw PageFault(linear, writeBit | userBit);
        rights = (uint)pde & (uint)pte;
        var updated = pte | PteA | (write && PermitsWrite(rights) ? PteD : 0);
        if (updated != pte)
            _memory.Write(pteAddress, 8, updated);
        return (pte & frame) | (linear & 0xFFF);
    }

    // The dirty bit is only set when the write will be allowed; a refused write leaves it clear.
    private bool PermitsWrite(uint rights) =>
        CplIsUser ? (rights & (PteRw | PteUs)) == (PteRw | PteUs) : (rights & PteRw) != 0 || (Cr0 & 0x10000) == 0;

    private bool CplIsUser => Cpl == 3 && !_systemAccess;

    private GuestFault PageFault(uint linear, uint errorCode)
    {
        Cr2 = linear;
        return Fault(CpuException.PF, errorCode);
    }
}
