namespace Qmp.Memory;

/// <summary>What backs a region of an address space.</summary>
public enum MemoryRegionKind
{
    /// <summary>Guest RAM: direct host pointer access.</summary>
    Ram,

    /// <summary>RAM the guest can read and execute but not write (firmware); writes are ignored.</summary>
    Rom,

    /// <summary>Device registers behind an <see cref="IIoHandler"/>.</summary>
    Io,
}
