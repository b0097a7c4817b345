using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Qmp.Cpu.X86;
using Qmp.Machine.Devices;

namespace Qmp.Machine;

/// <summary>
/// One virtual machine: its run state and its translator thread. Everything that changes the
/// machine from outside is posted to that thread and applied at a safe point, so observers see
/// events on one thread, in order, before the request that caused them completes.
/// </summary>
public sealed partial class Machine : IDisposable
{
    private readonly ILogger _logger;
    private readonly SafePointQueue _queue = new();
    private readonly List<IMachineObserver> _observers = [];
    private readonly TaskCompletionSource<ShutdownCause> _exitRequested =
        new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _threadExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IMachineBoard? _board;
    private readonly Control _control;
    private Thread? _thread;
    private Task _started = Task.CompletedTask;
    private volatile RunState _runState = RunState.Prelaunch;

    // Blocks the CPU runs between checks of timers and posted work (tens of microseconds).
    private const long BlockSlice = 4096;

    /// <summary>Creates a machine; nothing runs until <see cref="Start"/>.</summary>
    /// <param name="config">The configuration.</param>
    /// <param name="logger">Where to log.</param>
    /// <param name="board">Builds the hardware; null for a machine without a guest (QEMU's <c>none</c>).</param>
    /// <exception cref="MachineOperationException">The board could not be built (a missing kernel, a device that failed to realize).</exception>
    /// <param name="block">The block graph the command line opened (the machine owns it from now on); an empty one when null.</param>
    public Machine(MachineConfig config, ILogger<Machine>? logger = null, Func<IMachineControl, IMachineBoard>? board = null, Qmp.Block.BlockGraph? block = null)
    {
        Config = config;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        Block = block ?? new Qmp.Block.BlockGraph();
        _control = new Control(this);
        _board = board?.Invoke(_control);
        InitHotplug();
    }

    /// <summary>The block graph: nodes, drives and the backends devices use.</summary>
    public Qmp.Block.BlockGraph Block { get; }

    /// <summary>The hardware, when the machine has a guest.</summary>
    public IMachineBoard? Board => _board;

    /// <summary>Set when the guest ended the process through isa-debug-exit: the process exit code.</summary>
    public int? GuestExitCode { get; private set; }

    /// <summary>The configuration the machine was built from.</summary>
    public MachineConfig Config { get; }

    /// <summary>User-creatable objects (<c>/objects</c>): memory backends.</summary>
    public Qom.UserObjectRegistry Objects { get; } = new();

    /// <summary>
    /// Registers the backend of a guest chardev (created from the command line or chardev-add):
    /// a socket backend hands its input to this machine's thread, and query-chardev shows the
    /// socket's connection state or else the backend's name, as QEMU's filename.
    /// </summary>
    public void AddGuestChardev(string id, string backendName, Qmp.Machine.Chardevs.ICharBackend backend, bool frontendOpen)
    {
        if (backend is Qmp.Machine.Chardevs.Backends.SocketBackend socket)
            socket.Dispatcher = work => _ = InvokeAsync(work);
        Chardevs.Add(new Chardev(id, () => backend is Qmp.Machine.Chardevs.Backends.SocketBackend s ? s.Filename : backendName)
        {
            Backend = backend,
            FrontendOpen = frontendOpen,
        });
    }

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
        // An incoming migration decides at its end whether the guest runs (QEMU's autostart).
        if (!Config.StartPaused && _runState != RunState.InMigrate)
            _started = InvokeAsync(VmStart);
    }

    /// <summary>
    /// Completes once what <see cref="Start"/> set going has run: the guest running (and RESUME sent), or at
    /// once when it starts paused. The daemon serves QMP clients only after this, so no client sees start-up's
    /// RESUME or a machine not yet running, as none does with QEMU.
    /// </summary>
    public Task Started => _started;

    /// <summary>QMP <c>stop</c>: pause the guest; nothing happens if it is not running.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) =>
        InvokeAsync(() => VmStop(RunState.Paused), cancellationToken);

    /// <summary>
    /// QMP <c>cont</c>: resume the guest, or refuse with QEMU's reason. Block nodes a migration left inactive
    /// are activated first (QEMU's qmp_cont); the guest never runs while any node stays inactive.
    /// </summary>
    public async Task ContinueAsync(CancellationToken cancellationToken = default)
    {
        string? activationError = null;
        if (!Block.AllActive && _runState != RunState.InMigrate)
        {
            try
            {
                await Block.ActivateAllAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                // BlockException is an IOException: the node's own reason is kept for the reply, its first line only (QEMU keeps hints out of QMP).
                activationError = Qmp.Block.BlockException.Summary(e);
            }
        }
        await InvokeAsync(() =>
        {
            if (_runState is RunState.InternalError or RunState.Shutdown)
                throw new MachineOperationException("Resetting the Virtual Machine is required");
            if (_runState == RunState.Suspended)
                return;
            if (_runState == RunState.FinishMigrate)
                throw new MachineOperationException("Migration is not finalized yet");
            if (_runState == RunState.InMigrate)
            {
                // QEMU's qmp_cont during an incoming migration: the guest starts when it completes.
                Autostart = true;
                return;
            }
            if (!Block.AllActive)
                throw new MachineOperationException($"Cannot continue: block nodes are inactive{(activationError is null ? "" : $" and could not be activated: {activationError}")}");
            VmStart();
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>QMP <c>system_reset</c> and guest resets.</summary>
    public Task ResetAsync(ShutdownCause cause, CancellationToken cancellationToken = default) =>
        InvokeAsync(() => SystemReset(cause), cancellationToken);

    /// <summary>QMP <c>system_powerdown</c>: raise the power-button request.</summary>
    public Task PowerdownAsync(CancellationToken cancellationToken = default) => InvokeAsync(() =>
    {
        _logger.LogInformation("Powerdown requested");
        Notify(o => o.OnPowerdown());
        // The board's power button hands the request to the guest; a machine without a board
        // ends it at the event, as QEMU's "none" machine does.
        _board?.PressPowerButton();
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
        _board?.Cpu.RequestExit();
        return completion.Task;
    }

    /// <summary>Stops the translator thread after it has applied what is queued, and waits for it.</summary>
    public async Task TerminateAsync(CancellationToken cancellationToken = default)
    {
        _queue.Close();
        _board?.Cpu.RequestExit();
        if (_thread is null)
            return;
        await _threadExited.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _queue.Close();
        _board?.Cpu.RequestExit();
        _thread?.Join();
        _board?.Dispose();
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

    private void Post(Action work)
    {
        _queue.TryPost(work);
        _board?.Cpu.RequestExit();
    }

    private void ThreadMain()
    {
        try
        {
            if (_board is null)
            {
                // A machine without a guest only applies posted work.
                while (_queue.Drain())
                    _queue.WaitForWork(Timeout.InfiniteTimeSpan);
            }
            else
                RunGuest(_board);
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

    // The run loop: the vCPU executes translation blocks in slices; between slices the thread
    // applies posted work and fires due timers. A halted or stopped CPU sleeps until work arrives
    // or the next timer is due, never spinning.
    private void RunGuest(IMachineBoard board)
    {
        var cpu = board.Cpu;
        while (true)
        {
            cpu.ClearExitRequest();
            if (!_queue.Drain())
                return;
            if (GuestExitCode is not null)
            {
                _queue.WaitForWork(Timeout.InfiniteTimeSpan);
                continue;
            }
            board.Timers.RunExpired();
            if (_runState != RunState.Running)
            {
                _queue.WaitForWork(Timeout.InfiniteTimeSpan);
                continue;
            }
            var sliceStart = System.Diagnostics.Stopwatch.GetTimestamp();
            var exit = cpu.Run(BlockSlice);
            Throttle(sliceStart);
            switch (exit)
            {
                case CpuExit.TripleFault:
                    _logger.LogWarning("Triple fault at EIP {Eip:x8}: resetting", cpu.InstructionPointer);
                    GuestReset(ShutdownCause.GuestReset);
                    break;
                case CpuExit.Halted:
                    var deadline = board.Timers.NextDeadline;
                    var wait = deadline is null
                        ? Timeout.InfiniteTimeSpan
                        : TimeSpan.FromTicks(Math.Max(0, (deadline.Value - board.Timers.Clock.Now) / 100));
                    if (wait != TimeSpan.Zero)
                        _queue.WaitForWork(wait);
                    break;
            }
        }
    }

    // A reset the guest asked for (keyboard controller, triple fault): RESET event, or with
    // -no-reboot a shutdown, as QEMU does.
    private void GuestReset(ShutdownCause cause)
    {
        if (Config.NoReboot)
        {
            SystemShutdown(cause);
            return;
        }
        SystemReset(cause);
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
        // cont clears the I/O status that stopped the guest (QEMU's blk_iostatus_reset in qmp_cont).
        foreach (var backend in Block.Backends)
            backend.ResetIoStatus();
        SetRunState(RunState.Running);
        _board?.Timers.Clock.Resume();
        _control.RaiseResumed();
    }

    private void VmStop(RunState state)
    {
        if (_runState != RunState.Running)
            return;
        SetRunState(state);
        _board?.Timers.Clock.Pause();
        Notify(o => o.OnStop());
    }

    private void SystemReset(ShutdownCause cause)
    {
        if (cause is not (ShutdownCause.None or ShutdownCause.SubsystemReset or ShutdownCause.SnapshotLoad))
            Notify(o => o.OnReset(cause.IsGuest(), cause));
        _board?.Reset();
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

    /// <summary>What the board's devices may ask of the machine; they call it on the machine thread.</summary>
    private sealed class Control(Machine machine) : IMachineControl
    {
        public void RequestReset(ShutdownCause cause)
        {
            machine.GuestReset(cause);
            machine._board?.Cpu.RequestExit();
        }

        public void RequestShutdown(ShutdownCause cause)
        {
            machine.SystemShutdown(cause);
            machine._board?.Cpu.RequestExit();
        }

        public void ExitProcess(int exitCode)
        {
            // QEMU's isa-debug-exit calls exit(): no event, the guest runs no further.
            machine._logger.LogInformation("Guest exits through isa-debug-exit with code {Code} after {Instructions} instructions",
                exitCode, machine._board?.Cpu.InstructionsRetired ?? 0);
            machine.GuestExitCode = exitCode;
            machine._board?.Cpu.RequestExit();
            machine._exitRequested.TrySetResult(ShutdownCause.None);
        }

        public event Action? Resumed;

        public void StopForIoError()
        {
            machine.Post(() => machine.VmStop(RunState.IoError));
            machine._board?.Cpu.RequestExit();
        }

        public void Post(Action work) => machine.Post(work);

        public void RaiseResumed() => Resumed?.Invoke();
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
