namespace Qmp.Cpu.X86;

/// <summary>
/// A run of pre-decoded guest instructions ending at a branch, a mode change or a page end,
/// cached by physical address and the CPU mode it was decoded in. The ops live in a pinned
/// array so the interpreter walks them by pointer.
/// </summary>
internal sealed unsafe class TranslationBlock
{
    public TranslationBlock(uint csBase, uint linear, ulong physical, uint flags, DecodedOp[] ops, long firstPage, long lastPage)
    {
        CsBase = csBase;
        Linear = linear;
        Physical = physical;
        ModeFlags = flags;
        Ops = ops;
        FirstPage = firstPage;
        LastPage = lastPage;
        foreach (var op in ops)
            InstructionCount += op.Weight;
    }

    /// <summary>Guest instructions in the block (fused ops count twice).</summary>
    public int InstructionCount { get; }

    /// <summary>The CS base the EIPs in the ops are relative to.</summary>
    public uint CsBase { get; }

    /// <summary>CS base + EIP of the first instruction.</summary>
    public uint Linear { get; }

    /// <summary>Physical address of the first byte.</summary>
    public ulong Physical { get; }

    /// <summary>The mode key (<see cref="X86Cpu.BlockModeFlags"/>) the block was decoded for.</summary>
    public uint ModeFlags { get; }

    /// <summary>The decoded instructions, in a pinned array.</summary>
    public DecodedOp[] Ops { get; }

    /// <summary>Physical page numbers the block's bytes occupy (equal when on one page).</summary>
    public long FirstPage { get; }

    public long LastPage { get; }

    /// <summary>Cleared when the guest writes to the code; a stale block is never entered again.</summary>
    public bool Valid { get; set; } = true;

    /// <summary>The last two blocks that followed this one (direct chaining without a lookup).</summary>
    public TranslationBlock? Next0 { get; set; }

    public TranslationBlock? Next1 { get; set; }
}
