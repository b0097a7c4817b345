namespace Qmp.Machine.Devices.Apic;

/// <summary>
/// One of the local APIC's 256-bit vector registers (IRR, ISR, TMR): eight 32-bit words, word
/// <c>n</c> holding vectors <c>32n</c>..<c>32n+31</c> as the register page shows them.
/// </summary>
internal sealed class ApicVectorSet
{
    private readonly uint[] _words = new uint[8];

    /// <summary>The 32-bit word the guest reads at register offset <c>n * 0x10</c>.</summary>
    public uint Word(int n) => _words[n];

    public bool Contains(int vector) => (_words[vector >> 5] & (1u << (vector & 31))) != 0;

    public void Add(int vector) => _words[vector >> 5] |= 1u << (vector & 31);

    public void Remove(int vector) => _words[vector >> 5] &= ~(1u << (vector & 31));

    /// <summary>The highest vector present, or -1.</summary>
    public int Highest()
    {
        for (var i = 7; i >= 0; i--)
        {
            if (_words[i] != 0)
                return i * 32 + 31 - System.Numerics.BitOperations.LeadingZeroCount(_words[i]);
        }
        return -1;
    }

    public void Clear() => Array.Clear(_words);

    public void Save(BinaryWriter writer)
    {
        foreach (var word in _words)
            writer.Write(word);
    }

    public void Load(BinaryReader reader)
    {
        for (var i = 0; i < _words.Length; i++)
            _words[i] = reader.ReadUInt32();
    }
}
