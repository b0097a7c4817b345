using Iced.Intel;

namespace Qmp.Cpu.X86.Semantics;

/// <summary>Collects the families' selectors, by mnemonic or by exact code.</summary>
internal sealed class OpTableBuilder
{
    public Dictionary<Mnemonic, OpSelector> ByMnemonic { get; } = [];

    public Dictionary<Code, OpSelector> ByCode { get; } = [];

    public HashSet<Mnemonic> EndsBlock { get; } = [];

    public void Add(Mnemonic mnemonic, OpSelector selector) => ByMnemonic.Add(mnemonic, selector);

    public void Add(Code code, OpSelector selector) => ByCode.Add(code, selector);

    /// <summary>Instructions after which the block must end: they change how later code decodes or when interrupts are taken.</summary>
    public void EndBlockAfter(params Mnemonic[] mnemonics) => EndsBlock.UnionWith(mnemonics);
}
