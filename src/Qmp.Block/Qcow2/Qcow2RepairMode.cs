namespace Qmp.Block.Qcow2;

/// <summary>What <see cref="Qcow2Node.CheckAsync"/> repairs (<c>qemu-img check -r</c>).</summary>
public enum Qcow2RepairMode
{
    /// <summary>Only report.</summary>
    None,

    /// <summary><c>-r leaks</c>: drop refcounts that exceed the references.</summary>
    Leaks,

    /// <summary><c>-r all</c>: also rebuild refcounts lower than the references and fix COPIED flags.</summary>
    All,
}
