namespace Qmp.Block;

/// <summary>An edge of the graph: <see cref="Parent"/> uses <see cref="Node"/> as its child called <see cref="Role"/> ("file", "backing").</summary>
public sealed record BlockChild(BlockNode Parent, string Role, BlockNode Node);
