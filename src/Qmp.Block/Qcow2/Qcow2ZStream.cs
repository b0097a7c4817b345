using System.Runtime.InteropServices;

namespace Qmp.Block.Qcow2;

/// <summary>zlib.h's z_stream on LP64 Linux (uInt 32-bit, uLong 64-bit): 112 bytes; deflateInit2_ checks the size.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Qcow2ZStream
{
    public byte* NextIn;
    public uint AvailIn;
    public nuint TotalIn;
    public byte* NextOut;
    public uint AvailOut;
    public nuint TotalOut;
    public nint Msg;
    public nint State;
    public nint ZAlloc;
    public nint ZFree;
    public nint Opaque;
    public int DataType;
    public nuint Adler;
    public nuint Reserved;
}
