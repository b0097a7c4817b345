using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Qmp.Memory;

namespace Qmp.Cpu.X86;

public sealed unsafe partial class X86Cpu
{
    private volatile bool _exitRequested;
    private BlockTranslator? _translator;
    private int _threadId;
    private readonly Queue<long> _foreignCodeWrites = new();
    private readonly HashSet<RamBlock> _watchedBlocks = [];

    // Set when the interrupt controller's output rose; lets chained blocks skip polling it.
    private volatile bool _interruptHint;

    /// <summary>
    /// Tells the CPU its INTR input may have risen (the PIC calls this); until the run loop has
    /// looked at the line, chained blocks stop at the next boundary.
    /// </summary>
    public void NotifyInterruptRequest() => _interruptHint = true;

    /// <summary>Set by a handler that must end the block early (EIP already set).</summary>
    internal bool StopBlock;

    /// <summary>True after HLT until an interrupt arrives.</summary>
    public bool Halted { get; internal set; }

    /// <summary>Guest instructions retired (approximately: counted per block).</summary>
    public long InstructionsRetired { get; private set; }

    /// <summary>Blocks translated and invalidated so far.</summary>
    public (long Translated, long Invalidated, int Cached) BlockStatistics => (Blocks.Translated, Blocks.Invalidated, Blocks.Count);

    /// <summary>Asks <see cref="Run"/> to return at the next block boundary. Thread-safe.</summary>
    public void RequestExit() => _exitRequested = true;

    /// <summary>Clears a pending exit request; the machine calls this before applying its queued work.</summary>
    public void ClearExitRequest() => _exitRequested = false;

    /// <summary>
    /// Executes guest code on the calling thread (the machine's translator thread) until an exit
    /// is requested, the guest halts, it triple-faults, or <paramref name="blockBudget"/> blocks ran.
    /// </summary>
    public CpuExit Run(long blockBudget = long.MaxValue)
    {
        _threadId = Environment.CurrentManagedThreadId;
        if (_translator is null)
        {
            // First run: hook the RAM blocks; later layout changes re-hook through _flushRequested.
            _translator = new BlockTranslator(this);
            WatchRamBlocks();
        }
        while (true)
        {
            if (_exitRequested)
                return CpuExit.ExitRequested;
            if (_flushRequested)
            {
                FlushTlb();
                Blocks.FlushJumpCache();
                WatchRamBlocks();
            }
            if (_foreignCodeWrites.Count > 0)
                ApplyForeignCodeWrites();
            if (TripleFaulted)
                return CpuExit.TripleFault;
            _interruptHint = false;
            if (InterruptShadow || !TryDeliverNmi())
            {
                if (!InterruptShadow && (EflagsRaw & Flags.IF) != 0 && _interruptLine is { IsPending: true } line)
                    ExternalInterrupt(line.Acknowledge());
            }
            if (_interruptLine is { IsPending: true })
                _interruptHint = true;
            if (Halted)
                return CpuExit.Halted;
            if (blockBudget-- <= 0)
                return CpuExit.BudgetExhausted;
            var tb = FindBlock();
            if (tb is null)
                continue;
            if (InterruptShadow || (EflagsRaw & Flags.TF) != 0)
            {
                // One instruction at a time: after STI or MOV SS interrupts wait exactly one
                // instruction; with TF set each instruction ends in a #DB trap.
                var trap = (EflagsRaw & Flags.TF) != 0;
                InterruptShadow = false;
                if (Execute(tb, 1) && trap)
                    SingleStepTrap();
                continue;
            }
            RunChain(tb, ref blockBudget);
        }
    }

    // Runs blocks back to back while nothing needs the outer loop's checks: no exit request, no
    // StopBlock (interrupt window or mode change), no pending interrupt. Within a chain neither CS
    // nor the mode nor the paging setup changed (every instruction that changes them stops the
    // block), so a successor is found by its address alone. One try region covers the chain.
    private void RunChain(TranslationBlock tb, ref long blockBudget)
    {
        DecodedOp* first = null;
        DecodedOp* op = null;
        try
        {
            while (true)
            {
                var ops = tb.Ops;
                // SAFETY: translation blocks keep their ops in pinned arrays, alive while tb is referenced.
                first = (DecodedOp*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(ops));
                op = first;
                var end = first + ops.Length;
                do
                {
                    Eip = op->NextEip;
                    op->Handler(this, op);
                    op++;
                }
                while (op < end && !StopBlock);
                if (StopBlock)
                {
                    InstructionsRetired += Retired(first, op);
                    StopBlock = false;
                    return;
                }
                InstructionsRetired += tb.InstructionCount;
                if (_exitRequested || _flushRequested || blockBudget-- <= 0
                    || (EflagsRaw & Flags.TF) != 0 || ((EflagsRaw & Flags.IF) != 0 && _interruptHint))
                    return;
                var linear = Cs.Base + Eip;
                TranslationBlock? next;
                if (tb.Next0 is { } n0 && n0.Linear == linear && n0.Valid)
                    next = n0;
                else if (tb.Next1 is { } n1 && n1.Linear == linear && n1.Valid)
                    next = n1;
                else
                {
                    next = FindBlock();
                    if (next is null)
                        return;
                    tb.Next1 = tb.Next0;
                    tb.Next0 = next;
                }
                tb = next;
            }
        }
        catch (GuestFault fault)
        {
            InstructionsRetired += Retired(first, op);
            Eip = op->Eip;
            StopBlock = false;
            DeliverFault(fault);
        }
    }

    private TranslationBlock? FindBlock()
    {
        var csBase = Cs.Base;
        var linear = csBase + Eip;
        var mode = BlockModeFlags;
        var tb = Blocks.LookupFast(linear, csBase, mode);
        if (tb is not null)
            return tb;
        try
        {
            var physical = TranslateFetch(linear);
            return Blocks.Lookup(physical, linear, csBase, mode) ?? _translator!.Translate(mode);
        }
        catch (GuestFault fault)
        {
            DeliverFault(fault);
            return null;
        }
    }

    /// <summary>What the decoding of a block depends on besides its address: the code size.</summary>
    internal uint BlockModeFlags => (Cs.Is32 && ProtectedMode && !Vm86 ? 1u : 0u) | (ProtectedMode ? 2u : 0u) | (Vm86 ? 4u : 0u);

    // Returns true when the block ran to its end without StopBlock or a fault, so the caller may
    // chain into the next block without the outer loop's checks.
    private bool Execute(TranslationBlock tb, int limit)
    {
        var ops = tb.Ops;
        fixed (DecodedOp* first = ops)
        {
            var op = first;
            var end = first + Math.Min(ops.Length, limit);
            try
            {
                do
                {
                    Eip = op->NextEip;
                    op->Handler(this, op);
                    op++;
                }
                while (op < end && !StopBlock);
                InstructionsRetired += op == first + ops.Length ? tb.InstructionCount : Retired(first, op);
            }
            catch (GuestFault fault)
            {
                InstructionsRetired += Retired(first, op);
                Eip = op->Eip;
                StopBlock = false;
                DeliverFault(fault);
                return false;
            }
        }
        if (StopBlock)
        {
            StopBlock = false;
            return false;
        }
        return true;
    }

    private static long Retired(DecodedOp* first, DecodedOp* end)
    {
        long count = 0;
        for (var op = first; op < end; op++)
            count += op->Weight;
        return count;
    }

    internal ulong TranslateFetch(uint linear) => TranslatePage(linear, Access.Fetch, out _);

    private void WatchRamBlocks()
    {
        foreach (var block in _memory.RamBlocks())
        {
            if (_watchedBlocks.Add(block))
            {
                block.CodeWritten += OnCodeWritten;
                block.Dirty.Changed += () => _flushRequested = true;
            }
        }
    }

    // A write hit a page holding translated code: drop its blocks. On the CPU's own thread this
    // happens at once (and ends the current block, which may be among them); writes from other
    // threads (DMA) are queued for the next block boundary.
    private void OnCodeWritten(RamBlock block, long page)
    {
        foreach (var range in _memory.FlatView)
        {
            var region = range.Region;
            if (!ReferenceEquals(region.Block, block))
                continue;
            var offset = page << PageSize.Shift;
            var start = range.BlockOffsetOf(range.Start);
            if (offset < start || offset >= start + (long)(range.End - range.Start))
                continue;
            var physicalPage = (long)((range.Start + (ulong)(offset - start)) >> PageSize.Shift);
            if (Environment.CurrentManagedThreadId == _threadId)
            {
                Blocks.InvalidatePage(physicalPage);
                StopBlock = true;
            }
            else
            {
                lock (_foreignCodeWrites)
                    _foreignCodeWrites.Enqueue(physicalPage);
                RequestExit();
            }
        }
        if (Environment.CurrentManagedThreadId == _threadId)
            Blocks.ReleaseCodePage(block, page);
    }

    private void ApplyForeignCodeWrites()
    {
        lock (_foreignCodeWrites)
        {
            while (_foreignCodeWrites.TryDequeue(out var page))
                Blocks.InvalidatePage(page);
        }
    }
}
