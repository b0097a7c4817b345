using Qmp.Memory;

namespace Qmp.Memory.Tests;

/// <summary>A device register file of bytes that logs every access it receives.</summary>
internal sealed class RecordingHandler(int size) : IIoHandler
{
    public byte[] Registers { get; } = new byte[size];

    public List<string> Log { get; } = [];

    public ulong Read(ulong offset, int size)
    {
        Log.Add($"r{size}@{offset}");
        ulong value = 0;
        for (var i = 0; i < size; i++)
            value |= (ulong)Registers[(int)offset + i] << (i * 8);
        return value;
    }

    public void Write(ulong offset, int size, ulong value)
    {
        Log.Add($"w{size}@{offset}={value:x}");
        for (var i = 0; i < size; i++)
            Registers[(int)offset + i] = (byte)(value >> (i * 8));
    }
}
