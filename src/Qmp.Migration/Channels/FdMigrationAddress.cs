using Microsoft.Win32.SafeHandles;

namespace Qmp.Migration.Channels;

/// <summary>
/// <c>fd:NAME</c>: a descriptor the monitor received with <c>getfd</c> (or a number the process inherited),
/// already resolved and owned by the migration: a connected socket (with a return path), a pipe or a file.
/// </summary>
/// <param name="Name">The name or number as given, for messages.</param>
/// <param name="Handle">The descriptor; the channel closes it.</param>
public sealed record FdMigrationAddress(string Name, SafeFileHandle Handle) : MigrationAddress
{
    /// <inheritdoc/>
    public override string Display => $"fd:{Name}";
}
