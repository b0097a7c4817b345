using Iced.Intel;

namespace Qmp.Cpu.X86.Tests.Differential;

/// <summary>Collects the bytes Iced's encoder produces.</summary>
internal sealed class ByteCodeWriter : CodeWriter
{
    private readonly List<byte> _bytes = [];

    public override void WriteByte(byte value) => _bytes.Add(value);

    public byte[] ToArray() => [.. _bytes];
}
