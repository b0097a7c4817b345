using Iced.Intel;
using Qmp.Cpu.X86.Semantics;

namespace Qmp.Cpu.X86;

/// <summary>
/// Decodes guest code with Iced into a <see cref="TranslationBlock"/>: up to a branch, an
/// instruction that changes the mode, the end of the first page, or <see cref="MaxOps"/>.
/// </summary>
internal sealed unsafe class BlockTranslator
{
    public const int MaxOps = 64;

    private readonly X86Cpu _cpu;
    private readonly GuestCodeReader _reader;
    private readonly List<Instruction> _instructions = new(MaxOps);

    public BlockTranslator(X86Cpu cpu)
    {
        _cpu = cpu;
        _reader = new GuestCodeReader(cpu);
    }

    private static DecodedOp[] Pin(DecodedOp[] ops)
    {
        var pinned = GC.AllocateArray<DecodedOp>(ops.Length, pinned: true);
        ops.CopyTo(pinned, 0);
        return pinned;
    }

    /// <summary>Translates the block at CS:EIP. Faults (#PF, #GP past the CS limit, #UD) are thrown only for the first instruction.</summary>
    public TranslationBlock Translate(uint mode)
    {
        var cs = _cpu.Cs;
        var eip = _cpu.Eip;
        var code32 = cs.Is32 && _cpu.ProtectedMode && !_cpu.Vm86;
        var linear = cs.Base + eip;
        _reader.Start(linear);
        var decoder = Decoder.Create(code32 ? 32 : 16, _reader, eip, DecoderOptions.None);
        var firstPage = linear & ~0xFFFu;
        _instructions.Clear();
        var ends = false;
        while (!ends && _instructions.Count < MaxOps)
        {
            var start = _reader.Position;
            if (_instructions.Count > 0 && (start & ~0xFFFu) != firstPage)
                break;
            var position = _reader.Position;
            Instruction instruction;
            try
            {
                decoder.IP = (ulong)(position - cs.Base);
                decoder.Decode(out instruction);
            }
            catch (GuestFault) when (_instructions.Count > 0)
            {
                // The next instruction is not fetchable; it faults when it runs first in a block.
                break;
            }
            var nextEip = (uint)instruction.NextIP;
            if (!code32)
                nextEip &= 0xFFFF;
            var lastByte = (uint)instruction.IP + (uint)instruction.Length - 1;
            if (decoder.LastError != DecoderError.None || instruction.Code == Code.INVALID)
            {
                if (decoder.LastError == DecoderError.NoMoreBytes && _instructions.Count > 0)
                    break;
                instruction = default;
                instruction.Code = Code.INVALID;
                instruction.IP = (ulong)(position - cs.Base);
                instruction.NextIP = instruction.IP;
                ends = true;
            }
            else if (lastByte > cs.Limit && !(!_cpu.ProtectedMode && cs.Limit == 0xFFFF))
            {
                if (_instructions.Count > 0)
                    break;
                throw X86Cpu.Fault(CpuException.GP, 0);
            }
            _instructions.Add(instruction);
            ends |= instruction.FlowControl != FlowControl.Next || OpTable.EndsBlock(instruction.Code) || OpTable.Select(instruction) == 0;
            _reader.Position = cs.Base + nextEip;
        }
        var count = _instructions.Count;
        var fuse = count >= 2 && _instructions[^1].ConditionCode != ConditionCode.None;
        var ops = GC.AllocateArray<DecodedOp>(count, pinned: true);
        for (var n = 0; n < count; n++)
        {
            var instruction = _instructions[n];
            fixed (DecodedOp* op = &ops[n])
                OpDecoder.Fill(instruction, op, code32);
        }
        if (fuse)
        {
            fixed (DecodedOp* compare = &ops[count - 2])
            {
                if (OpDecoder.TryFuse(_instructions[count - 2], _instructions[count - 1], compare))
                    ops = ops[..^1].ToArray() is var trimmed ? Pin(trimmed) : ops;
            }
        }
        var tb = new TranslationBlock(cs.Base, linear, _reader.FirstPhysical, mode, ops, _reader.FirstPage, _reader.LastPage);
        _cpu.Blocks.Add(tb, _reader.RamPages);
        return tb;
    }
}
