namespace Qmp.Migration.Channels;

/// <summary>Where a migration stream goes or comes from (QEMU's MigrationAddress).</summary>
public abstract record MigrationAddress
{
    /// <summary>How error messages name the address, as QEMU does (<c>host:port</c>, a path).</summary>
    public abstract string Display { get; }
}
