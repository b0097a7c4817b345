namespace Qmp.Memory;

/// <summary>
/// A block of guest RAM in native memory: an anonymous private mapping by default, or a memfd
/// (private or shared) when a backend asks for one, so migration and cpr can hand the pages over.
/// </summary>
public sealed unsafe class RamBlock : IDisposable
{
    private readonly byte[] _codePages;
    private nint _host;

    private RamBlock(string name, long size, nint host, int fd, bool shared)
    {
        Name = name;
        Size = size;
        _host = host;
        Fd = fd;
        Shared = shared;
        Pages = size >> PageSize.Shift;
        Dirty = new DirtyLog(Pages);
        _codePages = new byte[Pages];
    }

    /// <summary>The block's name (QEMU's idstr, e.g. <c>pc.ram</c>), the key in migration streams.</summary>
    public string Name { get; }

    /// <summary>Size in bytes, a whole number of pages.</summary>
    public long Size { get; }

    /// <summary>Number of pages.</summary>
    public long Pages { get; }

    /// <summary>The memfd behind the block, or -1 for anonymous memory.</summary>
    public int Fd { get; }

    /// <summary>True for a MAP_SHARED memfd mapping (another process may map the same pages).</summary>
    public bool Shared { get; }

    /// <summary>Write tracking for migration and display clients.</summary>
    public DirtyLog Dirty { get; }

    /// <summary>Start of the mapping. Valid until <see cref="Dispose"/>.</summary>
    public byte* Host => (byte*)_host;

    /// <summary>Called, on the writing thread, when a write through a notifying path hits a page marked as holding code.</summary>
    public event Action<RamBlock, long>? CodeWritten;

    /// <summary>Allocates anonymous zeroed RAM.</summary>
    public static RamBlock CreateAnonymous(string name, long size)
    {
        CheckSize(size);
        var host = Map(size, NativeMethods.MapPrivate | NativeMethods.MapAnonymous | NativeMethods.MapNoReserve, -1);
        return new RamBlock(name, size, host, -1, shared: false);
    }

    /// <summary>Allocates RAM in a new memfd; <paramref name="share"/> maps it MAP_SHARED.</summary>
    public static RamBlock CreateMemfd(string name, long size, bool share)
    {
        CheckSize(size);
        var fd = NativeMethods.memfd_create(name, NativeMethods.MfdCloexec);
        if (fd < 0)
            throw new IOException($"cannot create memfd for '{name}': {NativeMethods.LastError()}");
        try
        {
            if (NativeMethods.ftruncate(fd, size) != 0)
                throw new IOException($"cannot size memfd for '{name}' to {size} bytes: {NativeMethods.LastError()}");
            var host = Map(size, share ? NativeMethods.MapShared : NativeMethods.MapPrivate, fd);
            return new RamBlock(name, size, host, fd, share);
        }
        catch
        {
            NativeMethods.close(fd);
            throw;
        }
    }

    /// <summary>A span over <paramref name="length"/> bytes at <paramref name="offset"/>; writes through it are not tracked.</summary>
    public Span<byte> GetSpan(long offset, int length)
    {
        CheckRange(offset, length);
        // SAFETY: the range was checked against the mapping, which lives until Dispose.
        return new Span<byte>(Host + offset, length);
    }

    /// <summary>Copies guest bytes out.</summary>
    public void Read(long offset, Span<byte> destination) => GetSpan(offset, destination.Length).CopyTo(destination);

    /// <summary>Copies bytes into guest RAM, recording the write for dirty tracking and code invalidation.</summary>
    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        source.CopyTo(GetSpan(offset, source.Length));
        NotifyWritten(offset, source.Length);
    }

    /// <summary>
    /// Records that something wrote <paramref name="length"/> bytes at <paramref name="offset"/>
    /// directly through <see cref="Host"/>: marks dirty pages and reports pages holding code.
    /// </summary>
    public void NotifyWritten(long offset, long length)
    {
        if (length <= 0)
            return;
        Dirty.Mark(offset, length);
        var first = offset >> PageSize.Shift;
        var last = (offset + length - 1) >> PageSize.Shift;
        for (var page = first; page <= last; page++)
        {
            if (Volatile.Read(ref _codePages[page]) != 0)
                CodeWritten?.Invoke(this, page);
        }
    }

    /// <summary>Marks <paramref name="page"/> as holding translated code, so writes to it are reported.</summary>
    public void SetCodePage(long page) => Volatile.Write(ref _codePages[page], 1);

    /// <summary>Clears the code mark of <paramref name="page"/> once no translation uses it.</summary>
    public void ClearCodePage(long page) => Volatile.Write(ref _codePages[page], 0);

    /// <summary>Whether <paramref name="page"/> holds translated code.</summary>
    public bool IsCodePage(long page) => Volatile.Read(ref _codePages[page]) != 0;

    /// <inheritdoc/>
    public void Dispose()
    {
        var host = Interlocked.Exchange(ref _host, 0);
        if (host == 0)
            return;
        NativeMethods.munmap(host, (nuint)Size);
        if (Fd >= 0)
            NativeMethods.close(Fd);
    }

    /// <summary>
    /// Drops the contents of anonymous RAM so every page reads as zero again without holding memory (an
    /// incoming migration, which then only writes the pages that are not zero). Returns false, changing
    /// nothing, for memfd RAM, whose pages another process may see.
    /// </summary>
    public bool Discard()
    {
        if (Fd >= 0 || _host == 0)
            return false;
        return NativeMethods.madvise(_host, (nuint)Size, NativeMethods.MadvDontNeed) == 0;
    }

    private static nint Map(long size, int flags, int fd)
    {
        var host = NativeMethods.mmap(0, (nuint)size, NativeMethods.ProtRead | NativeMethods.ProtWrite, flags, fd, 0);
        if (host == -1)
            throw new OutOfMemoryException($"cannot map {size} bytes of guest RAM: {NativeMethods.LastError()}");
        // As QEMU: transparent huge pages where the host allows them; untouched RAM then reads through the huge
        // zero page, which makes zero-page scans (migration) cheap. Only advice: failure changes nothing.
        NativeMethods.madvise(host, (nuint)size, NativeMethods.MadvHugePage);
        return host;
    }

    private static void CheckSize(long size)
    {
        if (size <= 0 || (size & (long)PageSize.OffsetMask) != 0)
            throw new ArgumentOutOfRangeException(nameof(size), size, "RAM size must be a positive multiple of 4 KiB");
    }

    private void CheckRange(long offset, long length)
    {
        if (_host == 0)
            throw new ObjectDisposedException(Name);
        if (offset < 0 || length < 0 || offset > Size - length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"range {offset:#x}+{length:#x} is outside RAM block '{Name}' of {Size:#x} bytes");
    }
}
