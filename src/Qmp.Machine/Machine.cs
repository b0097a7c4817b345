using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Qmp.Machine;

/// <summary>
/// One virtual machine: its run state and its translator thread. Everything that changes the
/// machine from outside is posted to that thread and applied at a safe point, so observers see
/// events on one thread, in order, before the request that caused them completes.
/// </summary>
public sealed class Machine : IDisposable
{
    private readonly ILogger _logger;
    private readonly SafePointQueue _queue = new();
    private readonly List<IMachineObserver> _observers = [];
    private readonly TaskCompletionSource<ShutdownCause> _exitRequested =
        new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _threadExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Thread? _thread;
    private volatile RunState _runState = RunState.Prelaunch;

    /// <summary>Creates a machine; nothing runs until <see cref="Start"/>.</summary>
    public Machine(MachineConfig config, ILogger<Machine>? logger = null)
    {
        Config = config;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The configuration the machine was built from.</summary>
    public MachineConfig Config { get; }

    /// <summary>The character devices of this machine, in creation order.</summary>
    public ChardevRegistry Chardevs { get; } = new();

    /// <summary>The current run state; readable from any thread.</summary>
    public RunState RunState => _runState;

    /// <summary>QEMU's <c>runstate_is_running</c>.</summary>
    public bool IsRunning => _runState == RunState.Running;

    /// <summary>Completes when the machine wants the process to end (quit, signal, guest poweroff).</summary>
    public Task<ShutdownCause> ExitRequested => _exitRequested.Task;

    /// <summary>Registers an observer. Call before <see cref="Start"/>.</summary>
    public void AddObserver(IMachineObserver observer)
    {
        lock (_observers)
            _observers.Add(observer);
    }

    /// <summary>Starts the translator thread; the guest runs unless <c>-S</c> was given.</summary>
    public void Start()
    {
        if (_thread is not null)
            throw new InvalidOperationException("The machine was already started.");
        _thread = new Thread(ThreadMain) { Name = $"machine {Config.Name ?? "(unnamed)"}", IsBackground = true };
        _thread.Start();
        if (!Config.StartPaused)
            Post(VmStart);
    }

    /// <summary>QMP <c>stop</c>: pause the guest; nothing happens if it is not running.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) =>
        InvokeAsync(() => VmStop(RunState.Paused), cancellationToken);

    /// <summary>QMP <c>cont</c>: resume the guest, or refuse with QEMU's reason.</summary>
    public Task ContinueAsync(CancellationToken cancellationToken = default) => InvokeAsync(() =>
    {
        if (_runState is RunState.InternalError or RunState.Shutdown)
            throw new MachineOperationException("Resetting the Virtual Machine is required");
        if (_runState == RunState.Suspended)
            return;
        if (_runState == RunState.FinishMigrate)
            throw new MachineOperationException("Migration is not finalized yet");
        VmStart();
    }, cancellationToken);

    /// <summary>QMP <c>system_reset</c> and guest resets.</summary>
    public Task ResetAsync(ShutdownCause cause, CancellationToken cancellationToken = default) =>
        InvokeAsync(() => SystemReset(cause), cancellationToken);

    /// <summary>QMP <c>system_powerdown</c>: raise the power-button request.</summary>
    public Task PowerdownAsync(CancellationToken cancellationToken = default) => InvokeAsync(() =>
    {
        _logger.LogInformation("Powerdown requested");
        Notify(o => o.OnPowerdown());
        // The ACPI power button that would hand this to the guest belongs to the board; with no
        // such device the request ends at the event, as on QEMU's "none" machine.
    }, cancellationToken);

    /// <summary>Requests a shutdown for <paramref name="cause"/>, QEMU's shutdown path.</summary>
    public Task ShutdownAsync(ShutdownCause cause, CancellationToken cancellationToken = default) =>
        InvokeAsync(() => SystemShutdown(cause), cancellationToken);

    /// <summary>Runs <paramref name="action"/> on the machine thread at the next safe point.</summary>
    public Task InvokeAsync(Action action, CancellationToken cancellationToken = default) =>
        InvokeAsync(() => { action(); return true; }, cancellationToken);

    /// <summary>Runs <paramref name="func"/> on the machine thread at the next safe point.</summary>
    public Task<T> InvokeAsync<T>(Func<T> func, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Thread.CurrentThread == _thread)
        {
            Complete(completion, func);
            return completion.Task;
        }
        if (!_queue.TryPost(() => Complete(completion, func)))
            completion.SetException(new MachineOperationException("The machine has been shut down"));
        return completion.Task;
    }

    /// <summary>Stops the translator thread after it has applied what is queued, and waits for it.</summary>
    public async Task TerminateAsync(CancellationToken cancellationToken = default)
    {
        _queue.Close();
        if (_thread is null)
            return;
        await _threadExited.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _queue.Close();
        _thread?.Join();
    }

    private static void Complete<T>(TaskCompletionSource<T> completion, Func<T> func)
    {
        try
        {
            completion.SetResult(func());
        }
        catch (Exception e)
        {
            completion.SetException(e);
        }
    }

    private void Post(Action work) => _queue.TryPost(work);

    private void ThreadMain()
    {
        try
        {
            // The run loop: the vCPU executes translation blocks here and polls the queue between
            // them. Until a CPU is attached the loop only applies posted work.
            while (_queue.Drain())
                _queue.WaitForWork();
        }
        catch (Exception e)
        {
            _logger.LogCritical(e, "Machine thread failed");
            _exitRequested.TrySetResult(ShutdownCause.HostError);
        }
        finally
        {
            _threadExited.TrySetResult();
        }
    }

    private void SetRunState(RunState next)
    {
        var current = _runState;
        if (!RunStateTransitions.IsAllowed(current, next))
            throw new InvalidOperationException($"invalid runstate transition: '{current}' -> '{next}'");
        if (current != next)
            _logger.LogDebug("Run state {From} -> {To}", current, next);
        _runState = next;
    }

    private void VmStart()
    {
        if (_runState == RunState.Running)
            return;
        // RESUME goes out before the state changes, as in QEMU's vm_prepare_start.
        Notify(o => o.OnResume());
        SetRunState(RunState.Running);
    }

    private void VmStop(RunState state)
    {
        if (_runState != RunState.Running)
            return;
        SetRunState(state);
        Notify(o => o.OnStop());
    }

    private void SystemReset(ShutdownCause cause)
    {
        if (cause is not (ShutdownCause.None or ShutdownCause.SubsystemReset or ShutdownCause.SnapshotLoad))
            Notify(o => o.OnReset(cause.IsGuest(), cause));
        // After a reset a machine that was not running waits in prelaunch (QEMU's main loop).
        if (_runState is not (RunState.Running or RunState.InMigrate or RunState.FinishMigrate))
            SetRunState(RunState.Prelaunch);
    }

    private void SystemShutdown(ShutdownCause cause)
    {
        if (_exitRequested.Task.IsCompleted)
            return;
        _logger.LogInformation("Shutdown requested: {Cause}", cause);
        Notify(o => o.OnShutdown(cause.IsGuest(), cause));
        // Quit and signals always end the process; a guest poweroff under -no-shutdown pauses.
        if (Config.NoShutdown && cause is not (ShutdownCause.HostQmpQuit or ShutdownCause.HostSignal))
            VmStop(RunState.Shutdown);
        else
            _exitRequested.TrySetResult(cause);
    }

    private void Notify(Action<IMachineObserver> raise)
    {
        IMachineObserver[] observers;
        lock (_observers)
            observers = [.. _observers];
        foreach (var observer in observers)
        {
            try
            {
                raise(observer);
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Machine observer {Observer} failed", observer.GetType().Name);
            }
        }
    }
}
