namespace Qmp.Machine.Devices.Pc;

/// <summary>A fixed-capacity byte FIFO (a UART's 16-byte receive or transmit FIFO).</summary>
internal sealed class ByteFifo(int capacity)
{
    private readonly byte[] _data = new byte[capacity];
    private int _head;
    private int _count;

    public int Capacity => _data.Length;

    public int Count => _count;

    public bool IsEmpty => _count == 0;

    public bool IsFull => _count == _data.Length;

    public void Push(byte value)
    {
        if (IsFull)
            throw new InvalidOperationException("FIFO full");
        _data[(_head + _count) % _data.Length] = value;
        _count++;
    }

    public byte Pop()
    {
        if (IsEmpty)
            throw new InvalidOperationException("FIFO empty");
        var value = _data[_head];
        _head = (_head + 1) % _data.Length;
        _count--;
        return value;
    }

    public void Clear() => _head = _count = 0;

    public void Save(BinaryWriter w)
    {
        w.Write((byte)_count);
        for (var i = 0; i < _count; i++)
            w.Write(_data[(_head + i) % _data.Length]);
    }

    public void Load(BinaryReader r)
    {
        Clear();
        var count = r.ReadByte();
        if (count > _data.Length)
            throw new InvalidDataException($"FIFO of {count} bytes exceeds its capacity of {_data.Length}");
        for (var i = 0; i < count; i++)
            Push(r.ReadByte());
    }
}
