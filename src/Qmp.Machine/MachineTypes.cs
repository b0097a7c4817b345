namespace Qmp.Machine;

/// <summary>The boards qmpd knows, and lookup by name or alias.</summary>
public static class MachineTypes
{
    /// <summary>The i440FX PC, qmpd's default board (one vCPU for now).</summary>
    public static readonly MachineType Pc = new(
        "pc-i440fx-10.0", "pc", IsDefault: true, CpuMax: 1, "qemu32-i386-cpu", "pc.ram",
        "Standard PC (i440FX + PIIX, 1996)");

    /// <summary>An empty machine: no board devices, at most one CPU.</summary>
    public static readonly MachineType None = new(
        "none", null, IsDefault: false, CpuMax: 1, null, "ram", "empty machine");

    /// <summary>The board used when <c>-machine</c> is not given.</summary>
    public static MachineType Default => Pc;

    /// <summary>Every known board, default first.</summary>
    public static IReadOnlyList<MachineType> All { get; } = [Pc, None];

    /// <summary>Finds a board by type name or alias.</summary>
    public static MachineType? Find(string nameOrAlias) =>
        All.FirstOrDefault(t => t.Name == nameOrAlias || t.Alias == nameOrAlias);
}
