namespace Qmp.Migration.Channels;

/// <summary>A command the stream is piped to (outgoing: its stdin) or from (incoming: its stdout).</summary>
/// <param name="Args">The program and its arguments; <c>exec:CMD</c> gives <c>/bin/sh -c CMD</c>.</param>
public sealed record ExecMigrationAddress(IReadOnlyList<string> Args) : MigrationAddress
{
    /// <inheritdoc/>
    public override string Display => string.Join(' ', Args);
}
