using System.Collections.Concurrent;
using Qmp.Block.File;

namespace Qmp.Img;

/// <summary>A few same-sized <see cref="AlignedBuffer"/>s reused by the requests a command keeps in flight.</summary>
internal sealed class IoBufferPool(int bufferSize) : IDisposable
{
    private readonly ConcurrentBag<AlignedBuffer> _free = [];
    private readonly ConcurrentBag<AlignedBuffer> _all = [];

    public int BufferSize => bufferSize;

    public AlignedBuffer Rent()
    {
        if (_free.TryTake(out var buffer))
            return buffer;
        buffer = new AlignedBuffer(bufferSize);
        _all.Add(buffer);
        return buffer;
    }

    public void Return(AlignedBuffer buffer) => _free.Add(buffer);

    public void Dispose()
    {
        foreach (var buffer in _all)
            ((IDisposable)buffer).Dispose();
    }
}
