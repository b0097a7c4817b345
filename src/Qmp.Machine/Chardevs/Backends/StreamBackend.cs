namespace Qmp.Machine.Chardevs.Backends;

/// <summary>
/// Guest output to a <see cref="Stream"/> (stdio, a log file) through a bounded buffer that a
/// background thread drains, so a slow or stalled reader never blocks the machine thread: bytes
/// that do not fit are dropped and counted. Output only; it delivers no input.
/// </summary>
public sealed class StreamBackend : ICharBackend, IDisposable
{
    private readonly Stream _stream;
    private readonly byte[] _buffer;
    private readonly object _lock = new();
    private readonly Thread _writer;
    private int _start;
    private int _count;
    private bool _writing;
    private bool _closing;
    private long _dropped;

    /// <summary>Starts the writer thread for <paramref name="stream"/>, buffering at most <paramref name="capacity"/> bytes.</summary>
    public StreamBackend(Stream stream, int capacity = 1 << 20, string name = "chardev writer")
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _stream = stream;
        _buffer = new byte[capacity];
        _writer = new Thread(WriterMain) { Name = name, IsBackground = true };
        _writer.Start();
    }

    /// <summary>Bytes dropped because the buffer was full.</summary>
    public long DroppedBytes => Interlocked.Read(ref _dropped);

    /// <summary>The first error the stream raised; after it, output is discarded.</summary>
    public Exception? Error { get; private set; }

    /// <inheritdoc/>
    public Action<ReadOnlySpan<byte>>? Received { get; set; }

    /// <inheritdoc/>
    public Func<int>? CanReceive { get; set; }

    /// <summary>Queues bytes for the writer; what does not fit is dropped. Never blocks on the stream.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            if (_closing || Error is not null)
            {
                Interlocked.Add(ref _dropped, data.Length);
                return;
            }
            var fit = Math.Min(data.Length, _buffer.Length - _count);
            for (var i = 0; i < fit; i++)
                _buffer[(_start + _count + i) % _buffer.Length] = data[i];
            _count += fit;
            if (fit < data.Length)
                Interlocked.Add(ref _dropped, data.Length - fit);
            if (fit > 0)
                Monitor.Pulse(_lock);
        }
    }

    /// <summary>Blocks until everything queued so far has been written and flushed (or the stream failed).</summary>
    public void Flush()
    {
        lock (_lock)
        {
            while ((_count > 0 || _writing) && Error is null && _writer.IsAlive)
                Monitor.Wait(_lock);
        }
    }

    /// <summary>Writes what is queued, stops the writer and leaves the stream open (the caller owns it).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_closing)
                return;
            _closing = true;
            Monitor.PulseAll(_lock);
        }
        _writer.Join();
    }

    private void WriterMain()
    {
        var chunk = new byte[Math.Min(_buffer.Length, 64 * 1024)];
        while (true)
        {
            int n;
            lock (_lock)
            {
                _writing = false;
                Monitor.PulseAll(_lock);
                while (_count == 0 && !_closing)
                    Monitor.Wait(_lock);
                if (_count == 0)
                    return;
                n = Math.Min(_count, chunk.Length);
                for (var i = 0; i < n; i++)
                    chunk[i] = _buffer[(_start + i) % _buffer.Length];
                _start = (_start + n) % _buffer.Length;
                _count -= n;
                _writing = true;
            }
            try
            {
                _stream.Write(chunk, 0, n);
                _stream.Flush();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
            {
                lock (_lock)
                {
                    // A closed or broken stream (the reader went away): stop writing, drop the rest.
                    Error = e;
                    Interlocked.Add(ref _dropped, n + _count);
                    _count = 0;
                    _writing = false;
                    Monitor.PulseAll(_lock);
                }
                return;
            }
        }
    }
}
