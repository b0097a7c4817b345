using Iced.Intel;

namespace Qmp.Cpu.X86.Tests.Differential;

/// <summary>
/// Deterministic (seeded) random cases for every form in <see cref="FormCatalog.Selected"/>: one
/// instruction with random operands of each kind the form takes (all register sizes incl. AH..BH,
/// immediates, memory operands in every 32-bit addressing shape landing in the data window), random
/// input flags, and per-family values that reach the interesting paths (divide errors, zero BSF
/// input, shift counts 0/1/width/&gt;width, REP strings with small ECX, bounds in and out of range).
/// Branches jump forward over a few filler instructions (or LOOP back a few times), so both paths end
/// at the end of the code. Each form draws from its own Random, so adding forms does not reshuffle others.
/// Deliberately not generated: 16-bit addressing (0x67) except the CX forms of LOOP/JCXZ, segment
/// overrides, REPNE on MOVS/STOS/LODS, 16-bit SHLD/SHRD counts above 16 (undefined result), and
/// ENTER frames reaching below the window (the host commits the pushes before faulting).
/// About 1 in 25 memory operands is placed across or outside a window edge on purpose (tag "pf").
/// </summary>
internal sealed class CaseGenerator
{
    public const int DefaultSeed = 0x686;

    // LEA EDI, [EDI+1]: what a taken branch skips. Changes no flag, so the path shows only in EDI.
    private static readonly Instruction _filler = Instruction.Create(Code.Lea_r32_m, Register.EDI, new MemoryOperand(Register.EDI, 1));
    private const int FillerLength = 3;

    private readonly int _seed;

    public CaseGenerator(int seed = DefaultSeed) => _seed = seed;

    /// <summary>How many cases each form gets: more where values matter more than operand shapes.</summary>
    public static int CasesPerForm(Code form) => FormCatalog.FamilyOf(form) switch
    {
        FormFamily.Bcd => 32,
        FormFamily.String => 24,
        FormFamily.Shift or FormFamily.Rotate or FormFamily.RotateThroughCarry or FormFamily.DoubleShift => 16,
        FormFamily.MulDiv or FormFamily.Atomic or FormFamily.Bound or FormFamily.Loop => 16,
        FormFamily.BitTest or FormFamily.BitScan or FormFamily.Stack or FormFamily.CallReturn => 12,
        FormFamily.Trap => 4,
        _ => 8,
    };

    public IReadOnlyList<CpuCase> GenerateAll() =>
        [.. FormCatalog.Selected.SelectMany(form => Generate(form, CasesPerForm(form)))];

    public IReadOnlyList<CpuCase> Generate(Code form, int count)
    {
        var random = new Random(unchecked((_seed * 1_000_003) + (int)form));
        var cases = new List<CpuCase>(count);
        for (var i = 0; i < count; i++)
            cases.Add(GenerateOne(form, i, random));
        return cases;
    }

    private static CpuCase GenerateOne(Code form, int index, Random random)
    {
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var generated = TryGenerate(form, index, random);
            if (generated is not null)
                return generated;
        }

        throw new InvalidOperationException($"No acceptable case for {form} after 1000 attempts.");
    }

    private static CpuCase? TryGenerate(Code form, int index, Random random)
    {
        var family = FormCatalog.FamilyOf(form);
        var builder = new CaseBuilder(random, family == FormFamily.String);
        var tags = new List<string>();
        Instruction main;
        byte[]? code;
        if (family == FormFamily.String)
            code = BuildString(form, builder, tags, out main);
        else if (form.FlowControl() is not (FlowControl.Next or FlowControl.Exception or FlowControl.Interrupt))
            code = BuildBranch(form, builder, tags, out main);
        else
            code = BuildPlain(form, builder, tags, out main);
        if (code is null)
            return null;

        CheckEncoding(form, code);
        var undefined = FlagRules.Undefined(main, builder.Registers);
        return new CpuCase
        {
            Name = tags.Count == 0 ? $"{form} #{index}" : $"{form} #{index} {string.Join(' ', tags)}",
            Form = form,
            Registers = [.. builder.Registers],
            Eflags = builder.Eflags,
            Code = code,
            Data = builder.Data,
            UndefinedFlags = undefined,
            FlagsMask = CpuLayout.ComparedFlags & ~undefined,
        };
    }

    private static byte[]? BuildPlain(Code form, CaseBuilder b, List<string> tags, out Instruction main)
    {
        var info = form.ToOpCode();
        var random = b.Random;
        var mnemonic = form.Mnemonic();
        main = default;

        if (form == Code.Xlat_m8)
        {
            var table = random.Next(CpuLayout.DataSize);
            b.Pin(CpuLayout.Ebx, CpuLayout.DataBase + (uint)table);
            b.TrySet(Register.AL, (uint)random.Next(Math.Min(256, CpuLayout.DataSize - table)));
            main = Instruction.Create(form, new MemoryOperand(Register.EBX, Register.AL));
            return Encode(main);
        }

        var operands = new FormOperand[info.OpCount];
        var memorySize = Math.Max(1, info.MemorySize.GetSize());
        var bitOffsetForm = FormCatalog.FamilyOf(form) == FormFamily.BitTest && info.Op1Kind is OpCodeOperandKind.r16_reg or OpCodeOperandKind.r32_reg;
        var accessesMemory = mnemonic is not (Mnemonic.Lea or Mnemonic.Nop or Mnemonic.Ud0 or Mnemonic.Ud1) && !bitOffsetForm;
        // POP r/m computes its address after ESP moved up, so keep room for that.
        var reserve = mnemonic == Mnemonic.Pop ? memorySize : 0;

        // Memory first: it pins the address registers, the other operands then work around them.
        for (var i = 0; i < operands.Length; i++)
        {
            var kind = info.GetOpKind(i);
            var memoryOnly = kind is OpCodeOperandKind.mem or OpCodeOperandKind.mem_offs;
            var either = kind is OpCodeOperandKind.r8_or_mem or OpCodeOperandKind.r16_or_mem or OpCodeOperandKind.r32_or_mem;
            if (!memoryOnly && !(either && random.Next(2) == 0))
                continue;
            var outside = accessesMemory && random.Next(25) == 0;
            var offset = outside ? b.NextOutsideOffset(memorySize) : b.NextOffset(memorySize + reserve);
            if (outside)
                tags.Add("pf");
            var address = kind == OpCodeOperandKind.mem_offs
                ? new MemoryOperand(Register.None, unchecked((int)(CpuLayout.DataBase + (uint)offset)), 4)
                : b.AddressOf(offset);
            operands[i] = FormOperand.Mem(address, offset, memorySize);
        }

        for (var i = 0; i < operands.Length; i++)
        {
            if (operands[i].Kind == FormOperandKind.Memory && operands[i].MemorySize != 0)
                continue;
            operands[i] = info.GetOpKind(i) switch
            {
                OpCodeOperandKind.r8_reg or OpCodeOperandKind.r8_opcode or OpCodeOperandKind.r8_or_mem => FormOperand.Reg(b.RandomRegister(8)),
                OpCodeOperandKind.r16_reg or OpCodeOperandKind.r16_opcode or OpCodeOperandKind.r16_rm or OpCodeOperandKind.r16_or_mem
                    => FormOperand.Reg(b.RandomRegister(16)),
                OpCodeOperandKind.r32_reg or OpCodeOperandKind.r32_opcode or OpCodeOperandKind.r32_rm or OpCodeOperandKind.r32_or_mem
                    => FormOperand.Reg(b.RandomRegister(32)),
                OpCodeOperandKind.al => FormOperand.Reg(Register.AL),
                OpCodeOperandKind.cl => FormOperand.Reg(Register.CL),
                OpCodeOperandKind.ax => FormOperand.Reg(Register.AX),
                OpCodeOperandKind.dx => FormOperand.Reg(Register.DX),
                OpCodeOperandKind.eax => FormOperand.Reg(Register.EAX),
                OpCodeOperandKind.imm8 => FormOperand.Imm((int)b.NextValue(8)),
                OpCodeOperandKind.imm8sex16 or OpCodeOperandKind.imm8sex32 => FormOperand.Imm((sbyte)b.NextValue(8)),
                OpCodeOperandKind.imm16 => FormOperand.Imm((int)b.NextValue(16)),
                OpCodeOperandKind.imm32 => FormOperand.Imm(unchecked((int)b.NextValue(32))),
                OpCodeOperandKind.imm8_const_1 => FormOperand.Imm(1),
                var other => throw new NotSupportedException($"{form}: operand kind {other} is not generated"),
            };
        }

        // XCHG reg, EAX with EAX itself is the NOP encoding (90), a different form.
        if (form is Code.Xchg_r32_EAX or Code.Xchg_r16_AX && CaseBuilder.IndexOf(operands[0].Register) == CpuLayout.Eax)
            return null;

        if (!ApplySemantics(form, info, operands, b, tags))
            return null;

        if (info.CanUseLockPrefix && random.Next(operands[0].Kind == FormOperandKind.Memory ? 5 : 40) == 0)
            tags.Add(operands[0].Kind == FormOperandKind.Memory ? "lock" : "lock-ud");
        main = Create(form, operands);
        if (tags.Contains("lock") || tags.Contains("lock-ud"))
            main.HasLockPrefix = true;
        return Encode(main);
    }

    /// <summary>Per-family operand values; false rejects the attempt.</summary>
    private static bool ApplySemantics(Code form, OpCodeInfo info, FormOperand[] operands, CaseBuilder b, List<string> tags)
    {
        var random = b.Random;
        var mnemonic = form.Mnemonic();

        // Memory sources get edge values too, not only random bytes.
        foreach (var operand in operands)
        {
            if (operand.Kind == FormOperandKind.Memory && operand.MemorySize <= 4 && random.Next(3) == 0)
                b.WriteData(operand.MemoryOffset, operand.MemorySize, b.NextValue(operand.MemorySize * 8));
        }

        switch (mnemonic)
        {
            case var _ when FlagRules.IsCountedShift(mnemonic):
                return ChooseShiftCount(info, operands, b);
            case Mnemonic.Div or Mnemonic.Idiv:
                ChooseDivision(mnemonic == Mnemonic.Idiv, OperandBits(operands[0]), operands[0], b, tags);
                return true;
            case Mnemonic.Mul or Mnemonic.Imul when random.Next(3) == 0:
                // Small factors keep the product in range, so CF=OF=0 shows up as often as overflow.
                foreach (var operand in operands.Where(o => o.Kind != FormOperandKind.Immediate))
                    SetValue(b, operand, (uint)random.Next(-8, 64));
                if (operands.Length == 1)
                    b.TrySet(Register.EAX, (uint)random.Next(-8, 64));
                return true;
            case Mnemonic.Bsf or Mnemonic.Bsr:
                var roll = random.Next(10);
                if (roll < 3)
                    SetValue(b, operands[1], 0);
                else if (roll < 5)
                    SetValue(b, operands[1], 1u << random.Next(OperandBits(operands[1])));
                return true;
            case Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc:
                return ChooseBitOffset(operands, b);
            case Mnemonic.Bound:
                ChooseBounds(operands, b, tags);
                return true;
            case Mnemonic.Cmpxchg when random.Next(2) == 0:
                var accumulator = CaseBuilder.Gpr(OperandBits(operands[0]), 0);
                b.TrySet(accumulator, GetValue(b, operands[0]));
                tags.Add("equal");
                return true;
            case Mnemonic.Cmpxchg8b when random.Next(2) == 0 && operands[0].MemoryOffset is >= 0 and <= CpuLayout.DataSize - 8:
                b.TrySet(Register.EAX, b.ReadData(operands[0].MemoryOffset, 4));
                b.TrySet(Register.EDX, b.ReadData(operands[0].MemoryOffset + 4, 4));
                tags.Add("equal");
                return true;
            case Mnemonic.Daa or Mnemonic.Das or Mnemonic.Aaa or Mnemonic.Aas:
                b.TrySet(Register.AL, NextBcdByte(b));
                if (random.Next(2) == 0)
                    b.TrySet(Register.AH, NextBcdByte(b));
                return true;
            case Mnemonic.Aam or Mnemonic.Aad:
                operands[0] = FormOperand.Imm(random.Next(5) switch
                {
                    0 => 0, // AAM 0 is #DE
                    1 => (int)b.NextValue(8),
                    _ => 10,
                });
                b.TrySet(Register.AL, NextBcdByte(b));
                b.TrySet(Register.AH, NextBcdByte(b));
                return true;
            case Mnemonic.Popf or Mnemonic.Popfd:
                // Popped flags may not set TF/NT/AC/ID/VIF/VIP/RF: they would change how the host runs the harness.
                var popped = b.NextUInt() & (CpuLayout.InputFlags | CpuLayout.IF | 0x3000u | 0x802Au);
                b.WriteData((int)(b.Registers[CpuLayout.Esp] - CpuLayout.DataBase), mnemonic == Mnemonic.Popf ? 2 : 4, popped);
                return true;
            case Mnemonic.Leave:
                var frame = CpuLayout.StackPageBase + 0x100 + (uint)random.Next(0xE00);
                b.Pin(CpuLayout.Ebp, random.Next(8) == 0 ? frame : frame & ~3u);
                return true;
            case Mnemonic.Enter:
                var level = random.Next(6) switch
                {
                    0 => 0,
                    1 => 1,
                    2 => random.Next(2, 5),
                    3 => random.Next(32),
                    4 => random.Next(32, 36), // the level is taken modulo 32
                    _ => random.Next(256),
                };
                // The host writes the pushes and then probes the final ESP: a frame reaching below the
                // window faults with the pushes already in memory, an implementation detail left out.
                var room = (int)(b.Registers[CpuLayout.Esp] - CpuLayout.DataBase) - (4 * ((level & 31) + 1)) - 4;
                operands[0] = FormOperand.Imm(random.Next(3) switch
                {
                    0 => 0,
                    1 => Math.Min(random.Next(0x40) * 4, room),
                    _ => random.Next(room + 1),
                });
                operands[1] = FormOperand.Imm(level);
                var link = CpuLayout.DataBase + 0x100 + (uint)random.Next(CpuLayout.DataSize - 0x200);
                b.Pin(CpuLayout.Ebp, random.Next(8) == 0 ? link : link & ~3u);
                return true;
            default:
                return true;
        }
    }

    private static bool ChooseShiftCount(OpCodeInfo info, FormOperand[] operands, CaseBuilder b)
    {
        var random = b.Random;
        var width = OperandBits(operands[0]);
        var isDouble = info.Mnemonic is Mnemonic.Shld or Mnemonic.Shrd;
        int count;
        if (isDouble && width == 16)
        {
            // Counts above 16 leave a 16-bit SHLD/SHRD result undefined; keep the masked count in 0..16.
            count = random.Next(17) + (random.Next(2) == 0 ? 0 : 32 * random.Next(8));
        }
        else
        {
            count = random.Next(12) switch
            {
                0 => 0,
                1 => 1,
                2 => 2,
                3 => width - 1,
                4 => width,
                5 => width + 1,
                6 => 31,
                7 => 32 + random.Next(4),
                8 => random.Next(256),
                9 => width * 2 + random.Next(2),
                _ => random.Next(32),
            };
        }

        var last = operands.Length - 1;
        var countKind = info.GetOpKind(last);
        if (countKind == OpCodeOperandKind.imm8)
            operands[last] = FormOperand.Imm(count & 0xFF);
        else if (countKind == OpCodeOperandKind.cl)
            b.TrySet(Register.CL, (uint)count);

        if (isDouble && width == 16 && countKind == OpCodeOperandKind.cl && (b.Registers[CpuLayout.Ecx] & 0x1F) > 16)
            return false; // CL is pinned by the address to an undefined-result count
        return true;
    }

    private static void ChooseDivision(bool signed, int bits, FormOperand divisorOperand, CaseBuilder b, List<string> tags)
    {
        var random = b.Random;
        var roll = random.Next(10);
        ulong divisor;
        ulong dividend; // 2*bits wide
        var low = bits == 32 ? uint.MaxValue : (1UL << bits) - 1;
        var wide = bits == 32 ? ulong.MaxValue : (1UL << (2 * bits)) - 1;
        if (roll < 2)
        {
            divisor = 0;
            dividend = b.NextULong() & wide;
            tags.Add("by-zero");
        }
        else if (roll < 4)
        {
            // Quotient does not fit: also #DE.
            divisor = Math.Max(1, b.NextValue(bits));
            if (signed)
            {
                // MIN / -1, or a dividend of at least 2^(2*bits-2) over +-1 or +-2.
                dividend = random.Next(2) == 0 ? 1UL << (2 * bits - 1) : (b.NextULong() | (1UL << (2 * bits - 2))) & (wide >> 1);
                divisor = (ulong)new long[] { -1, 1, 2, -2 }[random.Next(4)] & low;
            }
            else
            {
                var high = divisor + (b.NextValue(bits) % (low - divisor + 1));
                dividend = (high << bits) | (b.NextValue(bits) & low);
            }

            tags.Add("overflow");
        }
        else if (signed)
        {
            var d = SignExtend(Math.Max(1, b.NextValue(bits)), bits);
            var q = SignExtend(b.NextValue(bits), bits);
            var r = (long)(b.NextULong() % (ulong)Math.Abs(d));
            var product = q * d;
            if (product < 0 || (product == 0 && random.Next(2) == 0))
                r = -r;
            divisor = (ulong)d & low;
            dividend = (ulong)(product + r) & wide;
        }
        else
        {
            divisor = Math.Max(1, b.NextValue(bits));
            var q = b.NextValue(bits);
            var r = b.NextULong() % divisor;
            dividend = (q * divisor) + r;
        }

        SetValue(b, divisorOperand, (uint)divisor);
        switch (bits)
        {
            case 8:
                b.TrySet(Register.AX, (uint)dividend);
                break;
            case 16:
                b.TrySet(Register.AX, (uint)dividend);
                b.TrySet(Register.DX, (uint)(dividend >> 16));
                break;
            default:
                b.TrySet(Register.EAX, (uint)dividend);
                b.TrySet(Register.EDX, (uint)(dividend >> 32));
                break;
        }
    }

    private static long SignExtend(ulong value, int bits) => (long)(value << (64 - bits)) >> (64 - bits);

    private static bool ChooseBitOffset(FormOperand[] operands, CaseBuilder b)
    {
        var random = b.Random;
        var width = OperandBits(operands[0]);
        if (operands[1].Kind == FormOperandKind.Immediate)
        {
            operands[1] = FormOperand.Imm(random.Next(2) == 0 ? random.Next(width) : random.Next(256));
            return true;
        }

        if (operands[0].Kind == FormOperandKind.Register)
        {
            b.TrySet(operands[1].Register, random.Next(2) == 0 ? (uint)random.Next(width) : b.NextValue(width));
            return true;
        }

        // Register bit offset into memory: a signed offset that may reach far below or above the operand.
        var size = width / 8;
        var at = operands[0].MemoryOffset;
        var minElement = -(at / size);
        var maxElement = (CpuLayout.DataSize - size - at) / size;
        if (width == 16)
        {
            minElement = Math.Max(minElement, -2048);
            maxElement = Math.Min(maxElement, 2047);
        }

        var element = random.Next(3) == 0 ? 0 : random.Next(minElement, maxElement + 1);
        var offset = (long)element * width + random.Next(width);
        if (!b.TrySet(operands[1].Register, (uint)offset))
        {
            // The offset register also forms the address: keep the case only if it stays in the window.
            var actual = SignExtend(b.Get(operands[1].Register), width);
            var target = at + (long)Math.Floor(actual / (double)width) * size;
            return target >= 0 && target <= CpuLayout.DataSize - size;
        }

        return true;
    }

    private static void ChooseBounds(FormOperand[] operands, CaseBuilder b, List<string> tags)
    {
        var random = b.Random;
        var bits = CaseBuilder.SizeOf(operands[0].Register) * 8;
        var size = bits / 8;
        var lower = SignExtend(b.NextValue(bits), bits);
        var upper = random.Next(5) == 0 ? SignExtend(b.NextValue(bits), bits) : Math.Min(lower + random.Next(0x200), (1L << (bits - 1)) - 1);
        b.WriteData(operands[1].MemoryOffset, size, (ulong)lower);
        b.WriteData(operands[1].MemoryOffset + size, size, (ulong)upper);
        long index = random.Next(4) switch
        {
            < 2 when upper >= lower => lower + (long)(b.NextULong() % (ulong)(upper - lower + 1)),
            1 => random.Next(2) == 0 ? lower - 1 : upper + 1,
            _ => SignExtend(b.NextValue(bits), bits),
        };
        b.TrySet(operands[0].Register, (uint)index);
        var actual = SignExtend(b.Get(operands[0].Register), bits);
        tags.Add(actual >= lower && actual <= upper ? "in" : "out");
    }

    private static uint NextBcdByte(CaseBuilder b) => b.Random.Next(4) switch
    {
        0 => (uint)((b.Random.Next(10) << 4) | b.Random.Next(10)),
        1 => (uint)((b.Random.Next(16) << 4) | b.Random.Next(10, 16)),
        2 => new uint[] { 0x00, 0x09, 0x0A, 0x0F, 0x10, 0x90, 0x99, 0x9A, 0x9F, 0xA0, 0xF9, 0xFA, 0xFF }[b.Random.Next(13)],
        _ => (uint)b.Random.Next(256),
    };

    private static byte[]? BuildBranch(Code form, CaseBuilder b, List<string> tags, out Instruction main)
    {
        var random = b.Random;
        var info = form.ToOpCode();
        var mnemonic = form.Mnemonic();
        var fillers = random.Next(4);

        if (mnemonic is Mnemonic.Loop or Mnemonic.Loope or Mnemonic.Loopne && random.Next(5) < 2)
        {
            // Backward: the fillers, then LOOP back to the start with a small count so it terminates.
            fillers = 1 + random.Next(3);
            b.Pin(CpuLayout.Ecx);
            var counter = info.AddressSize == 16 ? Register.CX : Register.ECX;
            var start = b.Registers[CpuLayout.Ecx];
            b.Registers[CpuLayout.Ecx] = counter == Register.CX ? (start & 0xFFFF_0000) | (uint)random.Next(1, 7) : (uint)random.Next(1, 7);
            main = Instruction.CreateBranch(form, CpuLayout.CodeBase);
            tags.Add("backward");
            return Encode([.. Enumerable.Repeat(_filler, fillers), main]);
        }

        if (mnemonic is Mnemonic.Loop or Mnemonic.Loope or Mnemonic.Loopne or Mnemonic.Jcxz or Mnemonic.Jecxz)
        {
            var counter = random.Next(8) switch
            {
                0 or 1 => 0u,
                2 => 1u,
                3 => 0x0001_0000u,
                4 => 0x0001_0001u,
                5 => uint.MaxValue,
                _ => b.NextValue(32),
            };
            b.TrySet(Register.ECX, counter);
        }

        if (form is Code.Retnd or Code.Retnd_imm16)
        {
            main = form == Code.Retnd
                ? Instruction.Create(form)
                : Instruction.Create(form, random.Next(4) switch { 0 => 0, 1 => 4, 2 => 8, _ => (int)b.NextValue(16) });
            var target = CpuLayout.CodeBase + (uint)Encode(main).Length + (uint)(fillers * FillerLength);
            b.WriteData((int)(b.Registers[CpuLayout.Esp] - CpuLayout.DataBase), 4, target);
        }
        else if (form is Code.Jmp_rm32 or Code.Call_rm32)
        {
            FormOperand operand;
            if (random.Next(2) == 0)
            {
                var offset = b.NextOffset(4);
                operand = FormOperand.Mem(b.AddressOf(offset), offset, 4);
            }
            else
            {
                // Not ESP: the stack pointer must stay in the stack page.
                var number = random.Next(7);
                operand = FormOperand.Reg(CaseBuilder.Gpr(32, number >= CpuLayout.Esp ? number + 1 : number));
            }

            main = Create(form, [operand]);
            var target = CpuLayout.CodeBase + (uint)Encode(main).Length + (uint)(fillers * FillerLength);
            if (operand.Kind == FormOperandKind.Memory)
                b.WriteData(operand.MemoryOffset, 4, target);
            else if (!b.TrySet(operand.Register, target))
                return null;
        }
        else
        {
            var length = Encode(Instruction.CreateBranch(form, CpuLayout.CodeBase)).Length;
            main = Instruction.CreateBranch(form, CpuLayout.CodeBase + (uint)length + (uint)(fillers * FillerLength));
        }

        if (fillers == 0)
            tags.Add("to-next");
        return Encode([main, .. Enumerable.Repeat(_filler, fillers)]);
    }

    private static byte[] BuildString(Code form, CaseBuilder b, List<string> tags, out Instruction main)
    {
        var random = b.Random;
        var info = form.ToOpCode();
        var name = form.Mnemonic().ToString();
        var size = info.OperandSize switch { 16 => 2, 32 => 4, _ => 1 };
        var usesSource = name.StartsWith("Movs", StringComparison.Ordinal) || name.StartsWith("Cmps", StringComparison.Ordinal)
            || name.StartsWith("Lods", StringComparison.Ordinal);
        var usesDestination = !name.StartsWith("Lods", StringComparison.Ordinal);
        var compares = name.StartsWith("Cmps", StringComparison.Ordinal) || name.StartsWith("Scas", StringComparison.Ordinal);

        var roll = random.Next(10);
        var rep = roll < 3 ? RepPrefixKind.None : !compares || roll < 7 ? RepPrefixKind.Repe : RepPrefixKind.Repne;
        var runaway = rep != RepPrefixKind.None && random.Next(16) == 0;
        var down = (b.Eflags & CpuLayout.DF) != 0;
        uint count;
        int elements;
        if (rep == RepPrefixKind.None)
        {
            count = b.NextValue(32);
            elements = 1;
        }
        else if (runaway)
        {
            // Runs until it leaves the window: a #PF part-way with ECX/ESI/EDI showing the progress.
            count = 0x1_0000 + (uint)random.Next(0x1_0000);
            elements = 1;
            tags.Add("runaway");
        }
        else
        {
            count = (uint)(random.Next(3) == 0 ? random.Next(40) : new[] { 0, 1, 2, 3, 4, 5, 7, 8, 16 }[random.Next(9)]);
            elements = Math.Max(1, (int)count);
        }

        int Place()
        {
            var span = elements * size;
            var start = random.Next(CpuLayout.DataSize - span + 1);
            return down ? start + span - size : start;
        }

        var source = Place();
        var destination = Place();
        if (name.StartsWith("Movs", StringComparison.Ordinal) && !runaway && random.Next(4) == 0)
        {
            // Overlapping copy: element-by-element semantics must show (a repeated pattern).
            var shifted = source + (new[] { -2, -1, 1, 2 }[random.Next(4)] * (random.Next(2) == 0 ? size : 1));
            var span = elements * size;
            var first = down ? shifted - span + size : shifted;
            if (first >= 0 && first + span <= CpuLayout.DataSize)
            {
                destination = shifted;
                tags.Add("overlap");
            }
        }

        b.Pin(CpuLayout.Ecx, count);
        if (usesSource)
            b.Pin(CpuLayout.Esi, CpuLayout.DataBase + (uint)source);
        if (usesDestination)
            b.Pin(CpuLayout.Edi, CpuLayout.DataBase + (uint)destination);

        if (compares && rep != RepPrefixKind.None && !runaway)
        {
            // A run of elements that keeps the REPE/REPNE going, then (usually) one that stops it.
            var accumulator = CaseBuilder.Gpr(size * 8, 0);
            var run = random.Next(elements + 1);
            for (var e = 0; e <= run && e < elements; e++)
            {
                var step = (down ? -e : e) * size;
                var continues = e < run;
                var equal = continues == (rep == RepPrefixKind.Repe);
                var value = usesSource ? b.ReadData(source + step, size) : b.Get(accumulator);
                b.WriteData(destination + step, size, equal ? value : value ^ 1);
            }
        }

        main = name switch
        {
            "Movsb" => Instruction.CreateMovsb(32, Register.None, rep),
            "Movsw" => Instruction.CreateMovsw(32, Register.None, rep),
            "Movsd" => Instruction.CreateMovsd(32, Register.None, rep),
            "Cmpsb" => Instruction.CreateCmpsb(32, Register.None, rep),
            "Cmpsw" => Instruction.CreateCmpsw(32, Register.None, rep),
            "Cmpsd" => Instruction.CreateCmpsd(32, Register.None, rep),
            "Stosb" => Instruction.CreateStosb(32, rep),
            "Stosw" => Instruction.CreateStosw(32, rep),
            "Stosd" => Instruction.CreateStosd(32, rep),
            "Lodsb" => Instruction.CreateLodsb(32, Register.None, rep),
            "Lodsw" => Instruction.CreateLodsw(32, Register.None, rep),
            "Lodsd" => Instruction.CreateLodsd(32, Register.None, rep),
            "Scasb" => Instruction.CreateScasb(32, rep),
            "Scasw" => Instruction.CreateScasw(32, rep),
            "Scasd" => Instruction.CreateScasd(32, rep),
            _ => throw new NotSupportedException($"{form} is not a string form"),
        };
        if (rep != RepPrefixKind.None)
            tags.Add(rep == RepPrefixKind.Repne ? "repne" : compares ? "repe" : "rep");
        if (down)
            tags.Add("down");
        return Encode(main);
    }

    private static int OperandBits(FormOperand operand) =>
        operand.Kind == FormOperandKind.Register ? CaseBuilder.SizeOf(operand.Register) * 8 : operand.MemorySize * 8;

    private static uint GetValue(CaseBuilder b, FormOperand operand) =>
        operand.Kind == FormOperandKind.Register ? b.Get(operand.Register) : b.ReadData(operand.MemoryOffset, operand.MemorySize);

    private static void SetValue(CaseBuilder b, FormOperand operand, uint value)
    {
        if (operand.Kind == FormOperandKind.Register)
            b.TrySet(operand.Register, value);
        else if (operand.Kind == FormOperandKind.Memory)
            b.WriteData(operand.MemoryOffset, operand.MemorySize, value);
    }

    private static Instruction Create(Code form, FormOperand[] o)
    {
        static bool R(FormOperand x) => x.Kind == FormOperandKind.Register;
        static bool M(FormOperand x) => x.Kind == FormOperandKind.Memory;
        return o.Length switch
        {
            0 => Instruction.Create(form),
            1 when R(o[0]) => Instruction.Create(form, o[0].Register),
            1 when M(o[0]) => Instruction.Create(form, o[0].Memory),
            1 => Instruction.Create(form, o[0].Immediate),
            2 when R(o[0]) && R(o[1]) => Instruction.Create(form, o[0].Register, o[1].Register),
            2 when R(o[0]) && M(o[1]) => Instruction.Create(form, o[0].Register, o[1].Memory),
            2 when M(o[0]) && R(o[1]) => Instruction.Create(form, o[0].Memory, o[1].Register),
            2 when R(o[0]) => Instruction.Create(form, o[0].Register, o[1].Immediate),
            2 when M(o[0]) => Instruction.Create(form, o[0].Memory, o[1].Immediate),
            2 => Instruction.Create(form, o[0].Immediate, o[1].Immediate),
            3 when R(o[0]) && R(o[1]) && R(o[2]) => Instruction.Create(form, o[0].Register, o[1].Register, o[2].Register),
            3 when M(o[0]) && R(o[1]) && R(o[2]) => Instruction.Create(form, o[0].Memory, o[1].Register, o[2].Register),
            3 when R(o[0]) && R(o[1]) => Instruction.Create(form, o[0].Register, o[1].Register, o[2].Immediate),
            3 when R(o[0]) && M(o[1]) => Instruction.Create(form, o[0].Register, o[1].Memory, o[2].Immediate),
            3 when M(o[0]) && R(o[1]) => Instruction.Create(form, o[0].Memory, o[1].Register, o[2].Immediate),
            _ => throw new NotSupportedException($"{form}: operand shape not supported"),
        };
    }

    /// <summary>Encodes instructions back to back from <see cref="CpuLayout.CodeBase"/>.</summary>
    public static byte[] Encode(params Instruction[] instructions)
    {
        var writer = new ByteCodeWriter();
        var encoder = Encoder.Create(32, writer);
        var ip = (ulong)CpuLayout.CodeBase;
        foreach (var instruction in instructions)
            ip += (uint)encoder.Encode(instruction, ip);
        return writer.ToArray();
    }

    /// <summary>Guards against Iced picking a different form (e.g. XCHG EAX, EAX is NOP).</summary>
    private static void CheckEncoding(Code form, byte[] code)
    {
        if (CaseFormatter.Decode(code).Any(i => i.Code == form))
            return;
        throw new InvalidOperationException($"{form}: generated bytes {Convert.ToHexString(code)} decode to a different form.");
    }
}
