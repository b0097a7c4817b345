namespace Qmp.Migration.Stream;

/// <summary>A RAM block as the configuration record names it.</summary>
/// <param name="Name">QEMU's idstr, e.g. <c>pc.ram</c>.</param>
/// <param name="Size">Bytes.</param>
public sealed record RamBlockInfo(string Name, long Size);
