using Qmp.Migration;
using Qmp.Migration.Channels;
using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands;

/// <summary>migration.json: migrate, migrate-incoming, query-migrate, migrate_cancel, capabilities and parameters. <c>fd:NAME</c> takes a getfd descriptor of the calling monitor.</summary>
public sealed class MigrationCommands(MigrationManager migration) : IMigrationCommands
{
    /// <inheritdoc/>
    public ValueTask<MigrationInfo> QueryMigrateAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(migration.Query().ToSchema());

    /// <inheritdoc/>
    public ValueTask MigrateSetCapabilitiesAsync(MigrateSetCapabilitiesArguments arguments, CancellationToken cancellationToken)
    {
        Guard(() => migration.SetCapabilities(arguments.Capabilities.Select(c => (c.Capability.ToDomain(), c.State))));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<MigrationCapabilityStatus>> QueryMigrateCapabilitiesAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<MigrationCapabilityStatus> list = [.. Enum.GetValues<Migration.MigrationCapability>()
            .Select(c => new MigrationCapabilityStatus { Capability = c.ToSchema(), State = migration.IsEnabled(c) })];
        return ValueTask.FromResult(list);
    }

    /// <inheritdoc/>
    public ValueTask MigrateSetParametersAsync(MigrateSetParameters arguments, CancellationToken cancellationToken)
    {
        Guard(() => migration.SetParameters(p => p with
        {
            MaxBandwidth = arguments.MaxBandwidth ?? p.MaxBandwidth,
            DowntimeLimit = arguments.DowntimeLimit ?? p.DowntimeLimit,
            AvailSwitchoverBandwidth = arguments.AvailSwitchoverBandwidth ?? p.AvailSwitchoverBandwidth,
            CpuThrottleInitial = Percent(arguments.CpuThrottleInitial) ?? p.CpuThrottleInitial,
            CpuThrottleIncrement = Percent(arguments.CpuThrottleIncrement) ?? p.CpuThrottleIncrement,
            MaxCpuThrottle = Percent(arguments.MaxCpuThrottle) ?? p.MaxCpuThrottle,
        }));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask<Schema.MigrationParameters> QueryMigrateParametersAsync(CancellationToken cancellationToken)
    {
        var p = migration.Parameters;
        return ValueTask.FromResult(new Schema.MigrationParameters
        {
            MaxBandwidth = p.MaxBandwidth,
            DowntimeLimit = p.DowntimeLimit,
            AvailSwitchoverBandwidth = p.AvailSwitchoverBandwidth,
            CpuThrottleInitial = p.CpuThrottleInitial,
            CpuThrottleIncrement = p.CpuThrottleIncrement,
            MaxCpuThrottle = p.MaxCpuThrottle,
        });
    }

    /// <inheritdoc/>
    public ValueTask MigrateCancelAsync(CancellationToken cancellationToken)
    {
        migration.Cancel();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask MigrateContinueAsync(MigrateContinueArguments arguments, CancellationToken cancellationToken)
    {
        var expected = arguments.State.ToDomain();
        Guard(() =>
        {
            if (expected is null)
                throw new MigrationException($"Migration not in expected state: {MigrationManager.StatusName(migration.Query().Status ?? Migration.MigrationStatus.None)}");
            migration.Continue(expected.Value);
        });
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask MigrateAsync(MigrateArguments arguments, CancellationToken cancellationToken)
    {
        if (arguments.Resume == true)
            throw QmpErrorException.Generic("Cannot resume if there is no paused migration");
        Guard(() => migration.Migrate(Address(arguments.Uri, arguments.Channels)));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask MigrateIncomingAsync(MigrateIncomingArguments arguments, CancellationToken cancellationToken)
    {
        Guard(() => migration.Incoming(Address(arguments.Uri, arguments.Channels), fromCommandLine: false, arguments.ExitOnError ?? true));
        return ValueTask.CompletedTask;
    }

    /// <summary>The one address of <c>uri</c> or <c>channels</c>, with QEMU's refusals.</summary>
    internal static Migration.Channels.MigrationAddress Address(string? uri, IReadOnlyList<MigrationChannel>? channels)
    {
        if ((uri is null) == (channels is null))
            throw new MigrationException("Need either 'uri' or 'channels' argument");
        if (uri is not null)
            return MigrationUri.Parse(uri, QmpRequestContext.ResolveFdParameter);
        if (channels!.Count != 1)
            throw new MigrationException(channels.Count == 0 ? "Need either 'uri' or 'channels' argument" : "Channel list has more than one entries");
        var addr = channels[0].Addr;
        return addr.Transport switch
        {
            MigrationAddressType.Socket => Socket(addr.Socket!),
            MigrationAddressType.Exec => addr.Exec!.Args.Count == 0
                ? throw new MigrationException("Parameter 'addr.args' expects a non-empty command")
                : new ExecMigrationAddress([.. addr.Exec.Args]),
            MigrationAddressType.File => new FileMigrationAddress(addr.File!.Filename, (long)Math.Min(addr.File.Offset, long.MaxValue)),
            _ => throw new MigrationException(MigrationUri.InvalidProtocol),
        };
    }

    // As QEMU 8.2's migrate_uri_parse: a socket channel of type fd is the fd: URI, a stream on a descriptor from getfd.
    private static Migration.Channels.MigrationAddress Socket(SocketAddress socket) => socket.Type switch
    {
        SocketAddressType.Unix => SocketMigrationAddress.Unix(socket.Unix!.Path),
        SocketAddressType.Fd => new FdMigrationAddress(socket.Fd!.Str, QmpRequestContext.ResolveFdParameter(socket.Fd.Str)
            ?? throw new MigrationException($"File descriptor named '{socket.Fd.Str}' has not been found")),
        _ => SocketMigrationAddress.Inet(socket.Inet!.Host, socket.Inet.Port, socket.Inet.ToOptions()),
    };

    private static byte? Percent(ulong? value) => value is { } v ? (byte)Math.Min(v, 255) : null;

    private static void Guard(Action request)
    {
        try
        {
            request();
        }
        catch (MigrationException e)
        {
            throw QmpErrorException.Generic(e.Message);
        }
    }
}
