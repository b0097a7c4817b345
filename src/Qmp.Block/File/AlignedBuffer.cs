using System.Buffers;
using System.Runtime.InteropServices;

namespace Qmp.Block.File;

/// <summary>Native memory aligned for O_DIRECT (aligned memory, not just aligned offsets), usable as <see cref="Memory{T}"/>; freed on dispose.</summary>
public sealed unsafe class AlignedBuffer : MemoryManager<byte>
{
    private readonly int _length;
    private byte* _pointer;

    /// <summary>Allocates <paramref name="length"/> bytes aligned to <paramref name="alignment"/> (a power of two).</summary>
    public AlignedBuffer(int length, int alignment = FileNode.DirectAlignment)
    {
        _length = length;
        _pointer = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(length, 1), (nuint)alignment);
    }

    /// <summary>The buffer's size in bytes.</summary>
    public int Length => _length;

    /// <inheritdoc/>
    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_pointer is null, this);
        // SAFETY: _pointer holds _length bytes from AlignedAlloc until Dispose nulls it.
        return new Span<byte>(_pointer, _length);
    }

    /// <inheritdoc/>
    public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

    /// <inheritdoc/>
    public override void Unpin()
    {
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (_pointer is null)
            return;
        NativeMemory.AlignedFree(_pointer);
        _pointer = null;
    }
}
