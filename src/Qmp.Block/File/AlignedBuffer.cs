using System.Buffers;
using System.Runtime.InteropServices;

namespace Qmp.Block.File;

/// <summary>Native memory aligned for O_DIRECT, usable as <see cref="Memory{T}"/>; freed on dispose.</summary>
internal sealed unsafe class AlignedBuffer : MemoryManager<byte>
{
    private readonly int _length;
    private byte* _pointer;

    public AlignedBuffer(int length, int alignment)
    {
        _length = length;
        _pointer = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(length, 1), (nuint)alignment);
    }

    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_pointer is null, this);
        // SAFETY: _pointer holds _length bytes from AlignedAlloc until Dispose nulls it.
        return new Span<byte>(_pointer, _length);
    }

    public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (_pointer is null)
            return;
        NativeMemory.AlignedFree(_pointer);
        _pointer = null;
    }
}
