namespace Qmp.Migration.Stream;

/// <summary>The configuration record: what the destination checks before it loads anything.</summary>
/// <param name="MachineType">The board type, e.g. <c>pc-i440fx-7.2</c>.</param>
/// <param name="RamBlocks">Every migrated RAM block, in block-index order.</param>
/// <param name="Uuid">The source's uuid when validate-uuid is on, else null.</param>
public sealed record MigrationConfig(string MachineType, IReadOnlyList<RamBlockInfo> RamBlocks, Guid? Uuid);
