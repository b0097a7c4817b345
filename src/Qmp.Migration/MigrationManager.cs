using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Qmp.Machine;
using Qmp.Migration.Channels;

namespace Qmp.Migration;

/// <summary>
/// The migration state of one machine (QEMU's MigrationState): capabilities, parameters, the current or
/// last migration in either direction, and the MIGRATION / MIGRATION_PASS events, raised only while the
/// <c>events</c> capability is on. Thread-safe; the migration itself runs on its own thread.
/// </summary>
public sealed class MigrationManager : IDisposable
{
    private const string InProgress = "There's a migration process in progress";
    private readonly object _lock = new();
    private readonly Machine.Machine _machine;
    private readonly ILogger _logger;
    private readonly HashSet<MigrationCapability> _capabilities = [];
    private MigrationParameters _parameters = new();
    private OutgoingMigration? _outgoing;
    private IncomingMigration? _incoming;
    private bool _incomingDeferred;

    /// <summary>Creates the migration state of <paramref name="machine"/>.</summary>
    public MigrationManager(Machine.Machine machine, ILogger<MigrationManager>? logger = null)
    {
        _machine = machine;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>MIGRATION: the new status. Raised on the thread that changed it, in order.</summary>
    public event Action<MigrationStatus>? StatusChanged;

    /// <summary>MIGRATION_PASS: the pass number, from 1, at each dirty-bitmap sync of the source.</summary>
    public event Action<long>? PassStarted;

    /// <summary>The parameters now in force.</summary>
    public MigrationParameters Parameters => Volatile.Read(ref _parameters);

    /// <summary>Whether <paramref name="capability"/> is on.</summary>
    public bool IsEnabled(MigrationCapability capability)
    {
        lock (_lock)
            return _capabilities.Contains(capability);
    }

    /// <summary>migrate-set-capabilities: all or nothing, refused while a migration runs.</summary>
    /// <exception cref="MigrationException">A migration is in progress (QEMU's text).</exception>
    public void SetCapabilities(IEnumerable<(MigrationCapability Capability, bool State)> changes)
    {
        lock (_lock)
        {
            if (IsBusy())
                throw new MigrationException(InProgress);
            foreach (var (capability, state) in changes)
            {
                if (state)
                    _capabilities.Add(capability);
                else
                    _capabilities.Remove(capability);
            }
        }
    }

    /// <summary>migrate-set-parameters: checks every value first (QEMU's texts), then applies them together; allowed during a migration.</summary>
    /// <exception cref="MigrationException">A value is out of range.</exception>
    public void SetParameters(Func<MigrationParameters, MigrationParameters> change)
    {
        lock (_lock)
        {
            var next = change(_parameters);
            if (next.DowntimeLimit > 2_000_000)
                throw new MigrationException("Parameter 'downtime_limit' expects an integer in the range of 0 to (2000 * 1000) ms");
            if (next.CpuThrottleInitial is < 1 or > 99)
                throw new MigrationException("Parameter 'cpu_throttle_initial' expects an integer in the range of 1 to 99");
            if (next.CpuThrottleIncrement is < 1 or > 99)
                throw new MigrationException("Parameter 'cpu_throttle_increment' expects an integer in the range of 1 to 99");
            if (next.MaxCpuThrottle < next.CpuThrottleInitial || next.MaxCpuThrottle > 99)
                throw new MigrationException("Parameter 'max_cpu_throttle' expects an integer in the range of cpu_throttle_initial to 99");
            if (next.MaxBandwidth > long.MaxValue)
                throw new MigrationException($"Parameter 'max_bandwidth' expects an integer in the range of 0 to {long.MaxValue} bytes/second");
            Volatile.Write(ref _parameters, next);
        }
    }

    /// <summary>
    /// <c>migrate</c>: starts an outgoing migration to <paramref name="address"/>. The status is <c>setup</c>
    /// (and its event out) when this returns; connecting happens on the migration thread.
    /// </summary>
    /// <exception cref="MigrationException">Refused with QEMU's text: one already runs, the guest waits for an incoming migration, or it is paused after one.</exception>
    public void Migrate(MigrationAddress address)
    {
        OutgoingMigration outgoing;
        lock (_lock)
        {
            if (IsBusy())
                throw new MigrationException(InProgress);
            var state = _machine.RunState;
            if (state == RunState.InMigrate)
                throw new MigrationException("Guest is waiting for an incoming migration");
            if (state == RunState.PostMigrate)
                throw new MigrationException("Can't migrate the vm that was paused due to previous migration");
            outgoing = new OutgoingMigration(this, _machine, address, _capabilities, _logger);
            _outgoing = outgoing;
            _machine.OutgoingMigrationActive = true;
            _machine.Block.Jobs.StartBlocker = "Cannot start a block job while migrating";
        }
        RaiseStatus(MigrationStatus.Setup);
        outgoing.Start();
    }

    /// <summary>Marks the machine as started with <c>-incoming defer</c>: migrate-incoming is allowed once.</summary>
    public void DeferIncoming() => _incomingDeferred = true;

    /// <summary>
    /// <c>-incoming URI</c> or <c>migrate-incoming</c>: listens (or runs, or opens) and loads the stream when
    /// it comes. The machine must be in <c>inmigrate</c>.
    /// </summary>
    /// <param name="address">Where the stream comes from.</param>
    /// <param name="fromCommandLine">True for <c>-incoming URI</c>; false for migrate-incoming, which needs <c>-incoming defer</c>.</param>
    /// <param name="exitOnError">End the process when the load fails (QEMU's behaviour; migrate-incoming's exit-on-error).</param>
    /// <exception cref="MigrationException">Not deferred, already started, or the address cannot be bound; QEMU's texts.</exception>
    public void Incoming(MigrationAddress address, bool fromCommandLine, bool exitOnError = true)
    {
        IncomingMigration incoming;
        lock (_lock)
        {
            if (!fromCommandLine)
            {
                if (!_incomingDeferred)
                    throw new MigrationException("'-incoming' was not specified on the command line");
                if (_incoming is not null)
                    throw new MigrationException("The incoming migration has already been started");
            }
            if (_machine.RunState != RunState.InMigrate)
                throw new MigrationException("Guest is not waiting for an incoming migration");
            incoming = new IncomingMigration(this, _machine, address, exitOnError, _capabilities.Contains(MigrationCapability.LateBlockActivate), _logger);
            _incoming = incoming;
        }
        RaiseStatus(MigrationStatus.Setup);
        incoming.Start();
    }

    /// <summary>
    /// migrate_cancel: an outgoing migration in setup, active, pre-switchover or device goes to cancelling
    /// (event) and ends cancelled with the guest as before; otherwise nothing changes.
    /// </summary>
    public void Cancel()
    {
        OutgoingMigration? outgoing;
        lock (_lock)
        {
            outgoing = _outgoing;
            if (outgoing is null || outgoing.Status is not (MigrationStatus.Setup or MigrationStatus.Active or MigrationStatus.PreSwitchover or MigrationStatus.Device))
                return;
            outgoing.Status = MigrationStatus.Cancelling;
        }
        RaiseStatus(MigrationStatus.Cancelling);
        outgoing.Cancel();
    }

    /// <summary>migrate-continue: resumes a migration paused in pre-switchover.</summary>
    /// <exception cref="MigrationException">The migration is not in <paramref name="expected"/>; QEMU's text names the current state.</exception>
    public void Continue(MigrationStatus expected)
    {
        lock (_lock)
        {
            var current = _outgoing?.Status ?? MigrationStatus.None;
            if (current != expected)
                throw new MigrationException($"Migration not in expected state: {StatusName(current)}");
            _outgoing!.Continue();
        }
    }

    /// <summary>query-migrate.</summary>
    public MigrationProgress Query()
    {
        lock (_lock)
        {
            if (_incoming is { } incoming && (_outgoing is null || _machine.RunState == RunState.InMigrate))
                return incoming.Progress();
            return _outgoing?.Progress() ?? new MigrationProgress();
        }
    }

    /// <summary>QEMU's name of a status (<c>pre-switchover</c>).</summary>
    public static string StatusName(MigrationStatus status) => status switch
    {
        MigrationStatus.PreSwitchover => "pre-switchover",
        _ => status.ToString().ToLowerInvariant(),
    };

    /// <inheritdoc/>
    public void Dispose()
    {
        OutgoingMigration? outgoing;
        IncomingMigration? incoming;
        lock (_lock)
        {
            outgoing = _outgoing;
            incoming = _incoming;
        }
        if (outgoing?.IsRunning == true)
            outgoing.Cancel();
        incoming?.Dispose();
    }

    internal void RaisePass(long pass)
    {
        if (IsEnabled(MigrationCapability.Events))
            PassStarted?.Invoke(pass);
    }

    // A step of a running migration; false when it was cancelled meanwhile (the step is then not taken).
    internal bool Transition(object run, MigrationStatus from, MigrationStatus to)
    {
        lock (_lock)
        {
            switch (run)
            {
                case OutgoingMigration outgoing when outgoing.Status == from:
                    outgoing.Status = to;
                    break;
                case IncomingMigration incoming when incoming.Status == from:
                    incoming.Status = to;
                    break;
                default:
                    return false;
            }
        }
        RaiseStatus(to);
        return true;
    }

    // The end of a migration: its final status, then the machine may hotplug and start jobs again.
    internal void Finish(object run, MigrationStatus status, string? error)
    {
        lock (_lock)
        {
            switch (run)
            {
                case OutgoingMigration outgoing:
                    outgoing.Status = status;
                    _machine.OutgoingMigrationActive = false;
                    _machine.Block.Jobs.StartBlocker = null;
                    break;
                case IncomingMigration incoming:
                    incoming.Status = status;
                    break;
            }
        }
        if (error is not null)
            _logger.LogDebug("Migration ended {Status}: {Error}", status, error);
        RaiseStatus(status);
    }

    private bool IsBusy() => _outgoing?.IsRunning == true || _incoming?.Status is MigrationStatus.Active;

    private void RaiseStatus(MigrationStatus status)
    {
        if (IsEnabled(MigrationCapability.Events))
            StatusChanged?.Invoke(status);
    }
}
