using System.Buffers;
using System.Runtime.InteropServices;

namespace Qmp.Img;

/// <summary>A page-aligned native buffer (O_DIRECT needs aligned memory, not just aligned offsets), freed on dispose.</summary>
internal sealed unsafe class IoBuffer : MemoryManager<byte>
{
    private const int Alignment = 4096;
    private readonly int _length;
    private byte* _pointer;

    public IoBuffer(int length)
    {
        _length = length;
        _pointer = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(length, 1), Alignment);
    }

    public int Length => _length;

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
