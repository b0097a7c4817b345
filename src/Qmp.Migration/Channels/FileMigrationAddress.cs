namespace Qmp.Migration.Channels;

/// <summary>A file the stream is written to or read from, starting at <paramref name="Offset"/>.</summary>
/// <param name="Path">The file.</param>
/// <param name="Offset">Where the stream starts in the file.</param>
public sealed record FileMigrationAddress(string Path, long Offset) : MigrationAddress
{
    /// <inheritdoc/>
    public override string Display => Path;
}
