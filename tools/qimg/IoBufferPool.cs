using System.Collections.Concurrent;

namespace Qmp.Img;

/// <summary>A few same-sized <see cref="IoBuffer"/>s reused by the requests a command keeps in flight.</summary>
internal sealed class IoBufferPool(int bufferSize) : IDisposable
{
    private readonly ConcurrentBag<IoBuffer> _free = [];
    private readonly ConcurrentBag<IoBuffer> _all = [];

    public int BufferSize => bufferSize;

    public IoBuffer Rent()
    {
        if (_free.TryTake(out var buffer))
            return buffer;
        buffer = new IoBuffer(bufferSize);
        _all.Add(buffer);
        return buffer;
    }

    public void Return(IoBuffer buffer) => _free.Add(buffer);

    public void Dispose()
    {
        foreach (var buffer in _all)
            ((IDisposable)buffer).Dispose();
    }
}
