using System.Text;

namespace Qmp.Machine.Chardevs.Backends;

/// <summary>
/// QEMU's <c>ringbuf</c> chardev: a power-of-two buffer that keeps the newest bytes the guest
/// wrote, drained by <c>ringbuf-read</c>. It never delivers input to the frontend. Thread-safe:
/// the machine thread writes while a monitor thread reads.
/// </summary>
public sealed class RingBufferBackend : ICharBackend
{
    private readonly byte[] _buffer;
    private readonly object _lock = new();
    private long _produced;
    private long _consumed;

    /// <summary>Creates a buffer of <paramref name="size"/> bytes (QEMU's default is 64 KiB).</summary>
    /// <exception cref="ArgumentException"><paramref name="size"/> is not a power of two.</exception>
    public RingBufferBackend(int size = 65536)
    {
        if (size <= 0 || (size & (size - 1)) != 0)
            throw new ArgumentException("size of ringbuf chardev must be power of two", nameof(size));
        _buffer = new byte[size];
    }

    /// <summary>The capacity in bytes.</summary>
    public int Size => _buffer.Length;

    /// <summary>Bytes waiting to be read.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
                return (int)(_produced - _consumed);
        }
    }

    /// <inheritdoc/>
    public Action<ReadOnlySpan<byte>>? Received { get; set; }

    /// <inheritdoc/>
    public Func<int>? CanReceive { get; set; }

    /// <summary>Appends bytes; when full the oldest are overwritten (never blocks).</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            var mask = _buffer.Length - 1;
            foreach (var b in data)
                _buffer[_produced++ & mask] = b;
            if (_produced - _consumed > _buffer.Length)
                _consumed = _produced - _buffer.Length;
        }
    }

    /// <summary>Removes and returns up to <paramref name="count"/> of the oldest bytes.</summary>
    public byte[] ReadBytes(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_lock)
        {
            var n = (int)Math.Min(count, _produced - _consumed);
            var result = new byte[n];
            var mask = _buffer.Length - 1;
            for (var i = 0; i < n; i++)
                result[i] = _buffer[(_consumed + i) & mask];
            _consumed += n;
            return result;
        }
    }

    /// <summary>
    /// Removes up to <paramref name="count"/> bytes and decodes them as UTF-8 (ringbuf-read's
    /// default format); invalid or cut sequences become U+FFFD, as QEMU's own bug note warns.
    /// </summary>
    public string Read(int count) => Encoding.UTF8.GetString(ReadBytes(count));
}
