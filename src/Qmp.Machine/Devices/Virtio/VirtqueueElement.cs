using Qmp.Memory;

namespace Qmp.Machine.Devices.Virtio;

/// <summary>
/// A descriptor chain the device popped from a <see cref="SplitVirtqueue"/>: the device-readable
/// buffers (the request) then the device-writable ones (the response). Its buffers were checked to
/// lie in guest RAM when popped. Hand it back with <see cref="SplitVirtqueue.Push"/>, once.
/// </summary>
public sealed class VirtqueueElement
{
    private readonly AddressSpace _memory;
    private readonly VirtqueueBuffer[] _readable;
    private readonly VirtqueueBuffer[] _writable;

    internal VirtqueueElement(SplitVirtqueue queue, int epoch, ushort head, VirtqueueBuffer[] readable, VirtqueueBuffer[] writable, AddressSpace memory)
    {
        Queue = queue;
        Epoch = epoch;
        Head = head;
        _readable = readable;
        _writable = writable;
        _memory = memory;
        ReadableLength = readable.Sum(b => (long)b.Length);
        WritableLength = writable.Sum(b => (long)b.Length);
    }

    /// <summary>The index of the chain's head descriptor (the id the used ring reports).</summary>
    public ushort Head { get; }

    /// <summary>The buffers the device reads, in chain order.</summary>
    public IReadOnlyList<VirtqueueBuffer> Readable => _readable;

    /// <summary>The buffers the device writes, in chain order.</summary>
    public IReadOnlyList<VirtqueueBuffer> Writable => _writable;

    /// <summary>Total bytes of <see cref="Readable"/>.</summary>
    public long ReadableLength { get; }

    /// <summary>Total bytes of <see cref="Writable"/>.</summary>
    public long WritableLength { get; }

    internal SplitVirtqueue Queue { get; }

    internal int Epoch { get; }

    internal bool Completed { get; set; }

    /// <summary>Gathers device-readable bytes from <paramref name="offset"/> into <paramref name="destination"/>; returns how many there were.</summary>
    public int Read(long offset, Span<byte> destination)
    {
        var done = 0;
        foreach (var buffer in _readable)
        {
            if (done == destination.Length)
                break;
            if (offset >= buffer.Length)
            {
                offset -= buffer.Length;
                continue;
            }
            var chunk = (int)Math.Min(buffer.Length - offset, destination.Length - done);
            _memory.Read(buffer.Address + (ulong)offset, destination.Slice(done, chunk));
            done += chunk;
            offset = 0;
        }
        return done;
    }

    /// <summary>Scatters <paramref name="source"/> into the device-writable buffers from <paramref name="offset"/> (dirty pages are marked); returns how many bytes fit.</summary>
    public int Write(long offset, ReadOnlySpan<byte> source)
    {
        var done = 0;
        foreach (var buffer in _writable)
        {
            if (done == source.Length)
                break;
            if (offset >= buffer.Length)
            {
                offset -= buffer.Length;
                continue;
            }
            var chunk = (int)Math.Min(buffer.Length - offset, source.Length - done);
            _memory.Write(buffer.Address + (ulong)offset, source.Slice(done, chunk));
            done += chunk;
            offset = 0;
        }
        return done;
    }
}
