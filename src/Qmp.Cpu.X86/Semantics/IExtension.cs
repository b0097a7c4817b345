namespace Qmp.Cpu.X86.Semantics;

/// <summary>Zero or sign extension, as a type argument.</summary>
internal interface IExtension
{
    static abstract bool Signed { get; }
}
