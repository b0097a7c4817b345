using Domain = Qmp.Machine;

namespace Qmp.Commands;

/// <summary>Maps the machine's enums to the schema's, one case each, so neither depends on the other.</summary>
internal static class DomainMapping
{
    public static Schema.RunState ToSchema(this Domain.RunState state) => state switch
    {
        Domain.RunState.Debug => Schema.RunState.Debug,
        Domain.RunState.InMigrate => Schema.RunState.Inmigrate,
        Domain.RunState.InternalError => Schema.RunState.InternalError,
        Domain.RunState.IoError => Schema.RunState.IoError,
        Domain.RunState.Paused => Schema.RunState.Paused,
        Domain.RunState.PostMigrate => Schema.RunState.Postmigrate,
        Domain.RunState.Prelaunch => Schema.RunState.Prelaunch,
        Domain.RunState.FinishMigrate => Schema.RunState.FinishMigrate,
        Domain.RunState.RestoreVm => Schema.RunState.RestoreVm,
        Domain.RunState.Running => Schema.RunState.Running,
        Domain.RunState.SaveVm => Schema.RunState.SaveVm,
        Domain.RunState.Shutdown => Schema.RunState.Shutdown,
        Domain.RunState.Suspended => Schema.RunState.Suspended,
        Domain.RunState.Watchdog => Schema.RunState.Watchdog,
        Domain.RunState.GuestPanicked => Schema.RunState.GuestPanicked,
        Domain.RunState.Colo => Schema.RunState.Colo,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    public static Schema.ShutdownCause ToSchema(this Domain.ShutdownCause cause) => cause switch
    {
        Domain.ShutdownCause.None => Schema.ShutdownCause.None,
        Domain.ShutdownCause.HostError => Schema.ShutdownCause.HostError,
        Domain.ShutdownCause.HostQmpQuit => Schema.ShutdownCause.HostQmpQuit,
        Domain.ShutdownCause.HostQmpSystemReset => Schema.ShutdownCause.HostQmpSystemReset,
        Domain.ShutdownCause.HostSignal => Schema.ShutdownCause.HostSignal,
        Domain.ShutdownCause.HostUi => Schema.ShutdownCause.HostUi,
        Domain.ShutdownCause.GuestShutdown => Schema.ShutdownCause.GuestShutdown,
        Domain.ShutdownCause.GuestReset => Schema.ShutdownCause.GuestReset,
        Domain.ShutdownCause.GuestPanic => Schema.ShutdownCause.GuestPanic,
        Domain.ShutdownCause.SubsystemReset => Schema.ShutdownCause.SubsystemReset,
        Domain.ShutdownCause.SnapshotLoad => Schema.ShutdownCause.SnapshotLoad,
        _ => throw new ArgumentOutOfRangeException(nameof(cause), cause, null),
    };

    /// <summary>Runs a machine request, turning its refusals into QMP errors.</summary>
    public static async ValueTask Guard(Func<Task> request)
    {
        try
        {
            await request().ConfigureAwait(false);
        }
        catch (Domain.MachineOperationException e)
        {
            throw Schema.Runtime.QmpErrorException.Generic(e.Message);
        }
    }

    /// <summary>An inet address's options beside host and port.</summary>
    public static Domain.Sockets.InetSocketOptions ToOptions(this Schema.InetSocketAddress inet) => new()
    {
        Numeric = inet.Numeric,
        To = inet.To is { } to ? (int)to : null,
        Ipv4 = inet.Ipv4,
        Ipv6 = inet.Ipv6,
        KeepAlive = inet.KeepAlive,
    };
}
