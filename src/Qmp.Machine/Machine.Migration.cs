using Qmp.Machine.Devices;
using Qmp.Machine.Devices.Pci;

namespace Qmp.Machine;

// What the migration code needs from the machine: QEMU's run-state steps of a migration
// (finish-migrate, postmigrate, inmigrate), the migratable state, and the vCPU throttle of auto-converge.
// Every state change happens on the machine thread.
public sealed partial class Machine
{
    private volatile int _throttlePercentage;
    private TimeSpan _throttleDebt;

    /// <summary>
    /// QEMU's autostart: whether the guest runs when an incoming migration completes. False under <c>-S</c>;
    /// <c>cont</c> during the incoming migration sets it.
    /// </summary>
    public bool Autostart { get; set; }

    /// <summary>
    /// auto-converge's vCPU throttle, 0..99: the translator thread sleeps this share of its time (QEMU's
    /// cpu_throttle_set). Readable and settable from any thread.
    /// </summary>
    public int ThrottlePercentage
    {
        get => _throttlePercentage;
        set => _throttlePercentage = Math.Clamp(value, 0, 99);
    }

    /// <summary>
    /// <c>-incoming</c>: the machine waits in <c>inmigrate</c> instead of starting the guest. Call before
    /// <see cref="Start"/>.
    /// </summary>
    public void EnterIncomingMigration()
    {
        if (_thread is not null)
            throw new InvalidOperationException("An incoming migration must be set up before the machine starts.");
        Autostart = !Config.StartPaused;
        SetRunState(RunState.InMigrate);
    }

    /// <summary>
    /// The source's stop for switchover: a running guest stops (STOP event) into <c>finish-migrate</c>.
    /// Returns the state before, which a failed migration returns to.
    /// </summary>
    public Task<RunState> EnterFinishMigrateAsync(CancellationToken cancellationToken = default) => InvokeAsync(() =>
    {
        var previous = _runState;
        if (previous == RunState.Running)
            VmStop(RunState.FinishMigrate);
        else
            SetRunState(RunState.FinishMigrate);
        return previous;
    }, cancellationToken);

    /// <summary>
    /// Leaves <c>finish-migrate</c>: to <c>postmigrate</c> after a completed migration, or back to
    /// <paramref name="previous"/> after a failed or cancelled one (a guest that ran resumes: RESUME event).
    /// </summary>
    public Task LeaveFinishMigrateAsync(bool completed, RunState previous, CancellationToken cancellationToken = default) => InvokeAsync(() =>
    {
        if (_runState != RunState.FinishMigrate)
            return;
        if (completed)
            SetRunState(RunState.PostMigrate);
        else if (previous == RunState.Running && Block.AllActive)
            VmStart();
        else if (previous != RunState.Running && RunStateTransitions.IsAllowed(RunState.FinishMigrate, previous))
            SetRunState(previous);
        else
            // A guest that cannot run (disks inactive) or whose state cannot be re-entered waits paused.
            SetRunState(RunState.Paused);
    }, cancellationToken);

    /// <summary>
    /// Ends an incoming migration: the guest runs when the source's ran and autostart is on, otherwise the
    /// machine takes the source's state (paused for a running source under -S), as QEMU's
    /// process_incoming_migration_bh does.
    /// </summary>
    public Task CompleteIncomingMigrationAsync(RunState sourceState, CancellationToken cancellationToken = default) => InvokeAsync(() =>
    {
        if (_runState != RunState.InMigrate)
            return;
        if (sourceState == RunState.Running)
        {
            if (Autostart && Block.AllActive)
                VmStart();
            else
                SetRunState(RunState.Paused);
        }
        else
        {
            SetRunState(RunStateTransitions.IsAllowed(RunState.InMigrate, sourceState) ? sourceState : RunState.Paused);
        }
    }, cancellationToken);

    /// <summary>
    /// Ends the process after a failed incoming migration (QEMU exits with status 1 there): no event,
    /// the guest never ran.
    /// </summary>
    public void ExitAfterFailedIncoming(int exitCode)
    {
        GuestExitCode = exitCode;
        _board?.Cpu.RequestExit();
        _exitRequested.TrySetResult(ShutdownCause.HostError);
    }

    /// <summary>
    /// Every device with migratable state, board devices first and then every PCI function bus by bus, each
    /// once, in an order that is the same for the same configuration. Call on the machine thread.
    /// </summary>
    public IReadOnlyList<IStatefulDevice> StatefulDevices()
    {
        var result = new List<IStatefulDevice>();
        var seen = new HashSet<IStatefulDevice>(ReferenceEqualityComparer.Instance);
        if (_board is null)
            return result;
        foreach (var device in _board.Devices)
        {
            if (device is IStatefulDevice stateful && seen.Add(stateful))
                result.Add(stateful);
        }
        foreach (var host in _board.Devices.OfType<PciHost>())
        {
            foreach (var bus in host.Buses)
            {
                foreach (var function in bus.Devices)
                {
                    if (seen.Add(function))
                        result.Add(function);
                }
            }
        }
        return result;
    }

    // auto-converge: the translator thread owes pct/(100-pct) of the time it ran as sleep; slices are short
    // (tens of microseconds), so the debt is paid once it reaches a millisecond.
    private void Throttle(long startedTicks)
    {
        var percentage = _throttlePercentage;
        if (percentage <= 0)
        {
            _throttleDebt = TimeSpan.Zero;
            return;
        }
        _throttleDebt += System.Diagnostics.Stopwatch.GetElapsedTime(startedTicks) * percentage / (100 - percentage);
        if (_throttleDebt < TimeSpan.FromMilliseconds(1))
            return;
        var sleep = _throttleDebt < TimeSpan.FromMilliseconds(100) ? _throttleDebt : TimeSpan.FromMilliseconds(100);
        _throttleDebt = TimeSpan.Zero;
        Thread.Sleep(sleep);
    }
}
