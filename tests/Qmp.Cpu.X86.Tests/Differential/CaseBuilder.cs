using System.Buffers.Binary;
using Iced.Intel;

namespace Qmp.Cpu.X86.Tests.Differential;

/// <summary>
/// Mutable input state of one case while it is generated. Registers that an address or a count
/// depends on are pinned, so later choices (interesting operand values) cannot move them.
/// </summary>
internal sealed class CaseBuilder
{
    private static readonly uint[] _edgeValues =
    [
        0, 1, 2, 0x7F, 0x80, 0x81, 0xFE, 0xFF, 0x0F, 0x10, 0x99, 0x7FFF, 0x8000, 0x8001, 0xFFFE, 0xFFFF, 0x00FF, 0x0100,
        0x7FFF_FFFF, 0x8000_0000, 0x8000_0001, 0xFFFF_FFFE, 0xFFFF_FFFF, 0x0000_FFFF, 0x0001_0000, 0x7F7F_7F7F, 0x8080_8080,
    ];

    private readonly uint[] _registers = new uint[CpuLayout.RegisterCount];
    private readonly bool[] _pinned = new bool[CpuLayout.RegisterCount];

    public CaseBuilder(Random random, bool likelyDirectionDown)
    {
        Random = random;
        for (var i = 0; i < _registers.Length; i++)
            _registers[i] = NextValue(32);
        var stack = CpuLayout.StackPageBase + 0x100 + (uint)random.Next(0xE00);
        if (random.Next(10) != 0)
            stack &= ~3u;
        Pin(CpuLayout.Esp, stack);
        random.NextBytes(Data);
        Eflags = (uint)random.Next() & CpuLayout.StatusFlags;
        if (random.Next(likelyDirectionDown ? 2 : 7) == 0)
            Eflags |= CpuLayout.DF;
        Eflags |= CpuLayout.ForcedFlags;
    }

    public Random Random { get; }

    public uint[] Registers => _registers;

    public byte[] Data { get; } = new byte[CpuLayout.DataSize];

    public uint Eflags { get; set; }

    public bool IsPinned(int index) => _pinned[index];

    public void Pin(int index, uint value)
    {
        _registers[index] = value;
        _pinned[index] = true;
    }

    public void Pin(int index) => _pinned[index] = true;

    /// <summary>
    /// Gives a register an interesting value unless an address or count depends on it (pinned).
    /// Does not pin: a later interesting value may overwrite this one (e.g. DIV AH, whose divisor
    /// is part of the dividend).
    /// </summary>
    public bool TrySet(Register register, uint value)
    {
        var (index, shift, bits) = Locate(register);
        if (_pinned[index])
            return false;
        var mask = bits == 32 ? uint.MaxValue : ((1u << bits) - 1) << shift;
        _registers[index] = (_registers[index] & ~mask) | ((value << shift) & mask);
        return true;
    }

    public uint Get(Register register)
    {
        var (index, shift, bits) = Locate(register);
        var value = _registers[index] >> shift;
        return bits == 32 ? value : value & ((1u << bits) - 1);
    }

    public static int IndexOf(Register register) => Locate(register).Index;

    public static int SizeOf(Register register) => Locate(register).Bits / 8;

    /// <summary>(full register index, bit position, width) of a general-purpose register.</summary>
    public static (int Index, int Shift, int Bits) Locate(Register register) => register switch
    {
        >= Register.EAX and <= Register.EDI => (register - Register.EAX, 0, 32),
        >= Register.AX and <= Register.DI => (register - Register.AX, 0, 16),
        >= Register.AL and <= Register.BL => (register - Register.AL, 0, 8),
        >= Register.AH and <= Register.BH => (register - Register.AH, 8, 8),
        _ => throw new ArgumentOutOfRangeException(nameof(register), register, "not a 32-bit mode general-purpose register"),
    };

    public static Register Gpr(int bits, int number) => bits switch
    {
        8 => Register.AL + number,
        16 => Register.AX + number,
        32 => Register.EAX + number,
        _ => throw new ArgumentOutOfRangeException(nameof(bits)),
    };

    /// <summary>
    /// A random register of the given width, usually one whose value is still free so that
    /// interesting values can be given to it; sometimes any, so operands also coincide with
    /// address registers and ESP.
    /// </summary>
    public Register RandomRegister(int bits)
    {
        if (Random.Next(4) != 0)
        {
            var free = Enumerable.Range(0, 8).Where(n => !_pinned[Locate(Gpr(bits, n)).Index]).ToList();
            if (free.Count > 0)
                return Gpr(bits, free[Random.Next(free.Count)]);
        }

        return Gpr(bits, Random.Next(8));
    }

    /// <summary>A value of the given width: often an edge value (0, 1, sign boundaries, all ones), otherwise random.</summary>
    public uint NextValue(int bits)
    {
        uint value;
        var roll = Random.Next(10);
        if (roll < 4)
            value = _edgeValues[Random.Next(_edgeValues.Length)];
        else if (roll < 5)
            value = (uint)Random.Next(0x20);
        else
            value = NextUInt();
        return bits == 32 ? value : value & ((1u << bits) - 1);
    }

    public uint NextUInt() => (uint)Random.Next(1 << 16) << 16 | (uint)Random.Next(1 << 16);

    public ulong NextULong() => (ulong)NextUInt() << 32 | NextUInt();

    public uint ReadData(int offset, int size)
    {
        if (offset < 0 || offset + size > Data.Length)
            return 0;
        return size switch
        {
            1 => Data[offset],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(Data.AsSpan(offset)),
            _ => BinaryPrimitives.ReadUInt32LittleEndian(Data.AsSpan(offset)),
        };
    }

    /// <summary>Writes the low <paramref name="size"/> bytes of a value; parts outside the window are dropped.</summary>
    public void WriteData(int offset, int size, ulong value)
    {
        for (var i = 0; i < size; i++)
        {
            var at = offset + i;
            if (at >= 0 && at < Data.Length)
                Data[at] = (byte)(value >> (8 * i));
        }
    }

    /// <summary>An offset in the window where <paramref name="size"/> bytes fit, in the data page or the stack page.</summary>
    public int NextOffset(int size)
    {
        size = Math.Max(size, 1);
        return Random.Next(4) == 0
            ? CpuLayout.StackPageOffset + Random.Next(CpuLayout.DataSize - CpuLayout.StackPageOffset - size + 1)
            : Random.Next(CpuLayout.StackPageOffset);
    }

    /// <summary>An offset where an access of <paramref name="size"/> bytes leaves the window (partly or wholly).</summary>
    public int NextOutsideOffset(int size)
    {
        size = Math.Max(size, 1);
        return Random.Next(2) == 0
            ? CpuLayout.DataSize - size + 1 + Random.Next(size + 32)
            : -1 - Random.Next(32);
    }

    /// <summary>
    /// Builds a 32-bit addressing-mode operand that reaches DataBase + <paramref name="offset"/>, choosing
    /// among absolute, base, base+disp8/32, base+index*scale(+disp) and index*scale+disp32 forms. Base
    /// and index registers get pinned; values already pinned (ESP, earlier operands) are honoured, with
    /// the displacement absorbing the difference (wrapping modulo 2^32 where needed).
    /// </summary>
    public MemoryOperand AddressOf(int offset)
    {
        var ea = unchecked(CpuLayout.DataBase + (uint)offset);
        var pattern = Random.Next(8);
        var useBase = pattern is >= 1 and <= 6;
        var useIndex = pattern >= 4;
        var baseNumber = Random.Next(8);
        var indexNumber = Random.Next(7);
        if (indexNumber >= CpuLayout.Esp)
            indexNumber++; // ESP cannot be an index
        var scale = 1 << Random.Next(4);

        uint indexValue = 0;
        if (useIndex)
        {
            if (!useBase || indexNumber != baseNumber)
            {
                if (!_pinned[indexNumber])
                {
                    Pin(indexNumber, Random.Next(4) switch
                    {
                        0 => NextUInt(),
                        1 => unchecked((uint)-Random.Next(1, 0x100)),
                        _ => (uint)Random.Next(0x100),
                    });
                }

                indexValue = _registers[indexNumber];
            }
        }

        var baseRegister = useBase ? Gpr(32, baseNumber) : Register.None;
        var indexRegister = useIndex ? Gpr(32, indexNumber) : Register.None;
        long displacement;
        if (useBase && useIndex && baseNumber == indexNumber)
        {
            if (!_pinned[baseNumber])
                Pin(baseNumber, (uint)Random.Next(0x100));
            var value = _registers[baseNumber];
            displacement = unchecked((int)(ea - value - value * (uint)scale));
        }
        else if (useBase && _pinned[baseNumber])
        {
            displacement = unchecked((int)(ea - _registers[baseNumber] - indexValue * (uint)scale));
        }
        else if (useBase)
        {
            displacement = pattern switch
            {
                1 or 4 => 0,
                2 or 5 => Random.Next(-128, 128),
                _ => Random.Next(2) == 0 ? Random.Next(-0x1000, 0x1000) : unchecked((int)NextUInt()),
            };
            Pin(baseNumber, unchecked(ea - (uint)displacement - indexValue * (uint)scale));
        }
        else
        {
            displacement = unchecked((int)(ea - indexValue * (uint)scale));
        }

        var displSize = !useBase ? 4 : displacement == 0 ? 0 : displacement is >= -128 and <= 127 ? 1 : 4;
        return new MemoryOperand(baseRegister, indexRegister, useIndex ? scale : 1, displacement, displSize);
    }
}
