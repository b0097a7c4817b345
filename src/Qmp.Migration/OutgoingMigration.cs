using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Qmp.Machine;
using Qmp.Migration.Channels;
using Qmp.Migration.Stream;

namespace Qmp.Migration;

/// <summary>
/// One outgoing precopy migration, run on its own thread: connect, configuration, passes over the dirty
/// bitmap until what is left fits max-bandwidth × downtime-limit, then stop (finish-migrate), inactivate the
/// block nodes, last pass, device state, end, and the destination's answer. Machine state changes only on
/// the machine thread (through Machine.InvokeAsync); every failure path reactivates the block nodes and
/// gives the guest back its run state.
/// </summary>
internal sealed class OutgoingMigration
{
    private readonly MigrationManager _manager;
    private readonly Machine.Machine _machine;
    private readonly MigrationAddress _address;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _cancel = new();
    private readonly SemaphoreSlim _continue = new(0, 1);
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly RamCounters _counters = new();
    private readonly HashSet<MigrationCapability> _capabilities;
    // Each pass's time and bytes, for the completion log line (the first few dozen).
    private readonly System.Text.StringBuilder _passes = new();
    private volatile MigrationConnection? _connection;
    private RamSender? _ram;
    private MigrationWriter? _writer;
    private long _setupTime = -1;
    private long _stoppedAt;
    private long _downtime = -1;
    private long _ended;
    private long _precopyBytes;
    private long _dirtySyncCount;
    private long _dirtyPagesRate;
    private long _pagesPerSecond;
    private long _expectedDowntime = -1;
    private double _mbps;
    private int _throttle;

    public OutgoingMigration(MigrationManager manager, Machine.Machine machine, MigrationAddress address, IReadOnlySet<MigrationCapability> capabilities, ILogger logger)
    {
        _manager = manager;
        _machine = machine;
        _address = address;
        _capabilities = [.. capabilities];
        _logger = logger;
    }

    /// <summary>The current state; changed only through <see cref="MigrationManager"/>.</summary>
    public MigrationStatus Status { get; set; } = MigrationStatus.Setup;

    /// <summary>Why it failed.</summary>
    public string? Error { get; private set; }

    /// <summary>Whether the migration may still be cancelled (QEMU's migration_is_running minus cancelling).</summary>
    public bool IsRunning => Status is MigrationStatus.Setup or MigrationStatus.Active or MigrationStatus.PreSwitchover or MigrationStatus.Device or MigrationStatus.Cancelling;

    /// <summary>Starts the migration thread.</summary>
    public void Start()
    {
        var thread = new Thread(Run) { Name = "migration", IsBackground = true };
        thread.Start();
    }

    /// <summary>migrate_cancel: fails every read, write and wait of the migration thread.</summary>
    public void Cancel()
    {
        _cancel.Cancel();
        _connection?.Abort();
    }

    /// <summary>migrate-continue: lets a migration waiting in pre-switchover go on.</summary>
    public void Continue()
    {
        if (_continue.CurrentCount == 0)
            _continue.Release();
    }

    /// <summary>query-migrate's view.</summary>
    public MigrationProgress Progress()
    {
        var status = Status;
        var now = Stopwatch.GetTimestamp();
        var ended = Interlocked.Read(ref _ended);
        var ram = _ram;
        var transferred = _writer?.BytesWritten ?? 0;
        var stopped = Interlocked.Read(ref _stoppedAt);
        var showRam = status is MigrationStatus.Active or MigrationStatus.Completed or MigrationStatus.PreSwitchover or MigrationStatus.Device or MigrationStatus.Cancelling;
        var active = status is MigrationStatus.Active or MigrationStatus.PreSwitchover or MigrationStatus.Device;
        return new MigrationProgress
        {
            Status = status,
            TotalTime = status == MigrationStatus.Setup || status == MigrationStatus.Failed || status == MigrationStatus.Cancelled ? null
                : (long)Stopwatch.GetElapsedTime(_started, ended != 0 ? ended : now).TotalMilliseconds,
            SetupTime = showRam && _setupTime >= 0 ? _setupTime : null,
            Downtime = status == MigrationStatus.Completed ? _downtime : null,
            ExpectedDowntime = active ? (_expectedDowntime >= 0 ? _expectedDowntime : (long)_manager.Parameters.DowntimeLimit) : null,
            CpuThrottlePercentage = _throttle > 0 && active ? _throttle : null,
            ErrorDesc = status == MigrationStatus.Failed ? Error : null,
            Ram = showRam && ram is not null ? new MigrationRamStats
            {
                Transferred = transferred,
                Remaining = ram.PendingPages * MigrationFormat.PageSize,
                Total = ram.TotalBytes,
                Duplicate = Interlocked.Read(ref _counters.Zero),
                Normal = Interlocked.Read(ref _counters.Normal),
                NormalBytes = Interlocked.Read(ref _counters.Normal) * MigrationFormat.PageSize,
                DirtyPagesRate = _dirtyPagesRate,
                Mbps = _mbps,
                DirtySyncCount = _dirtySyncCount,
                PagesPerSecond = _pagesPerSecond,
                PrecopyBytes = stopped == 0 ? transferred : _precopyBytes,
                DowntimeBytes = stopped == 0 ? 0 : transferred - _precopyBytes,
            } : null,
        };
    }

    private void Run()
    {
        var token = _cancel.Token;
        RunState? stoppedFrom = null;
        var inactivated = false;
        try
        {
            var connection = MigrationConnection.Connect(_address, token);
            _connection = connection;
            if (token.IsCancellationRequested)
                throw new OperationCanceledException(token);
            var limiter = new RateLimiter(() => (long)Math.Min(_manager.Parameters.MaxBandwidth, long.MaxValue), token);
            var writer = new MigrationWriter(connection.Data, limiter);
            _writer = writer;
            writer.WriteHeader();
            writer.WriteConfig(MachineState.Describe(_machine, _capabilities.Contains(MigrationCapability.ValidateUuid)));
            var ram = new RamSender(MachineState.RamBlocks(_machine));
            _ram = ram;
            _machine.InvokeAsync(ram.StartTracking, token).GetAwaiter().GetResult();
            // Serialise the devices once now, thrown away: their save code is compiled while the guest still runs
            // instead of inside the downtime. Not waited for: the first pass goes on meanwhile.
            _ = _machine.InvokeAsync(() => MachineState.Capture(_machine, RunState.Running), token)
                .ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            SyncPass(ram);
            _setupTime = (long)Stopwatch.GetElapsedTime(_started).TotalMilliseconds;
            if (!_manager.Transition(this, MigrationStatus.Setup, MigrationStatus.Active))
                throw new OperationCanceledException(token);

            Iterate(ram, writer, token);

            var stopping = Stopwatch.GetTimestamp();
            stoppedFrom = _machine.EnterFinishMigrateAsync(CancellationToken.None).GetAwaiter().GetResult();
            Interlocked.Exchange(ref _stoppedAt, Stopwatch.GetTimestamp());
            var phases = new SwitchoverPhases(stopping);
            _precopyBytes = writer.BytesWritten;
            limiter.Enabled = false;
            _machine.ThrottlePercentage = 0;
            if (_capabilities.Contains(MigrationCapability.PauseBeforeSwitchover))
                PauseBeforeSwitchover(token);

            // The destination must not open the images before the source has flushed and unlocked them.
            inactivated = true;
            phases.Mark("stop");
            try
            {
                _machine.Block.InactivateAllAsync(token).GetAwaiter().GetResult();
            }
            catch (IOException e)
            {
                // A block failure, not the channel's: reported as such, not as a broken socket.
                throw new MigrationException($"Failed to inactivate block nodes: {Qmp.Block.BlockException.Summary(e)}", e);
            }
            phases.Mark("inactivate");
            SyncPass(ram);
            var lastPages = ram.PendingPages;
            ram.SendPending(writer, _counters, token);
            phases.Mark($"ram {lastPages} pages");
            var sections = _machine.InvokeAsync(() => MachineState.Capture(_machine, stoppedFrom.Value), token).GetAwaiter().GetResult();
            foreach (var section in sections)
                writer.WriteSection(section);
            writer.WriteEnd();
            writer.Flush();
            connection.Data.Flush();
            phases.Mark("devices");
            if (connection.HasReturnPath && connection.ReadAnswer() is { } refusal)
                throw new MigrationException($"the destination refused the migration: {refusal}");
            phases.Mark("destination");
            connection.Dispose();

            // As QEMU: downtime and total-time end when the destination has confirmed the stream, before the
            // source's own switch to postmigrate.
            var end = Stopwatch.GetTimestamp();
            _downtime = (long)Stopwatch.GetElapsedTime(_stoppedAt, end).TotalMilliseconds;
            _machine.LeaveFinishMigrateAsync(completed: true, stoppedFrom.Value, CancellationToken.None).GetAwaiter().GetResult();
            phases.Mark("postmigrate");
            Interlocked.Exchange(ref _ended, end);
            ram.StopTracking();
            ram.Dispose();
            _manager.Finish(this, MigrationStatus.Completed, null);
            _logger.LogInformation("Migration to {Address} completed: {Bytes} bytes, downtime {Downtime} ms ({Phases}); setup {Setup} ms, passes {Passes}", _address.Display, writer.BytesWritten, _downtime, phases.ToString(), _setupTime, _passes.ToString());
        }
        catch (Exception e)
        {
            // Every failure, expected or a bug, ends here: the source must stay able to run and migrate again.
            if (e is not (MigrationException or MigrationLoadException or IOException or OperationCanceledException or System.Net.Sockets.SocketException or ObjectDisposedException or MachineOperationException))
                _logger.LogError(e, "Migration to {Address} failed unexpectedly", _address.Display);
            var cancelled = _cancel.IsCancellationRequested;
            var reason = cancelled ? "cancelled" : Describe(e);
            Fail(stoppedFrom, inactivated, cancelled, reason);
        }
    }

    // The passes while the guest runs: send what is pending, then switch over once what the guest dirtied
    // meanwhile fits the downtime at the measured bandwidth, else sync and go again.
    private void Iterate(RamSender ram, MigrationWriter writer, CancellationToken token)
    {
        var highRatePasses = 0;
        while (true)
        {
            var passStart = Stopwatch.GetTimestamp();
            var bytesBefore = writer.BytesWritten;
            var pagesBefore = _counters.Zero + _counters.Normal;
            ram.SendPending(writer, _counters, token);
            writer.Flush();
            var seconds = Math.Max(Stopwatch.GetElapsedTime(passStart).TotalSeconds, 1e-6);
            var passBytes = writer.BytesWritten - bytesBefore;
            if (_passes.Length < 600)
                _passes.Append(System.Globalization.CultureInfo.InvariantCulture, $"{(_passes.Length > 0 ? ", " : "")}{seconds * 1000:F0} ms {passBytes / 1e6:F1} MB");
            var parameters = _manager.Parameters;
            // A pass too short to measure says nothing about the link: assume max-bandwidth.
            var bandwidth = seconds < 0.001 ? (double)parameters.MaxBandwidth : passBytes / seconds;
            _mbps = Math.Round(passBytes * 8 / seconds / 1e6, 3);
            _pagesPerSecond = (long)((_counters.Zero + _counters.Normal - pagesBefore) / seconds);
            var dirtied = ram.DirtiedSinceSync();
            _dirtyPagesRate = (long)(dirtied / seconds);
            var switchBandwidth = parameters.AvailSwitchoverBandwidth > 0 ? parameters.AvailSwitchoverBandwidth : bandwidth;
            var dirtyBytes = dirtied * MigrationFormat.PageSize;
            _expectedDowntime = (long)(dirtyBytes / Math.Max(switchBandwidth, 1) * 1000);
            if (dirtyBytes <= switchBandwidth * parameters.DowntimeLimit / 1000)
                return;
            token.ThrowIfCancellationRequested();
            // auto-converge: a guest that dirties more than half of what a pass sends, twice running, is throttled.
            highRatePasses = dirtyBytes > passBytes / 2 ? highRatePasses + 1 : 0;
            if (_capabilities.Contains(MigrationCapability.AutoConverge) && highRatePasses >= 2)
            {
                _throttle = _throttle == 0 ? parameters.CpuThrottleInitial : Math.Min(_throttle + parameters.CpuThrottleIncrement, parameters.MaxCpuThrottle);
                _machine.ThrottlePercentage = _throttle;
                highRatePasses = 0;
            }
            SyncPass(ram);
        }
    }

    private void SyncPass(RamSender ram)
    {
        ram.Sync();
        var pass = Interlocked.Increment(ref _dirtySyncCount);
        _manager.RaisePass(pass);
    }

    private void PauseBeforeSwitchover(CancellationToken token)
    {
        if (!_manager.Transition(this, MigrationStatus.Active, MigrationStatus.PreSwitchover))
            throw new OperationCanceledException(token);
        _continue.Wait(token);
        if (!_manager.Transition(this, MigrationStatus.PreSwitchover, MigrationStatus.Device))
            throw new OperationCanceledException(token);
    }

    private string Describe(Exception e) => e switch
    {
        MigrationException or MigrationLoadException => e.Message,
        IOException or System.Net.Sockets.SocketException when _connection is { } connection => connection.DescribeFailure(e),
        _ => e.Message,
    };

    // Every failure path: reactivate the disks, give the guest its state back, stop tracking, then report.
    private void Fail(RunState? stoppedFrom, bool inactivated, bool cancelled, string reason)
    {
        _connection?.Abort();
        _machine.ThrottlePercentage = 0;
        _ram?.StopTracking();
        _ram?.Dispose();
        if (inactivated || !_machine.Block.AllActive)
        {
            try
            {
                _machine.Block.ActivateAllAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
            catch (IOException e)
            {
                reason = $"{reason}; block nodes could not be reactivated ({Qmp.Block.BlockException.Summary(e)}), the guest stays paused";
                _logger.LogError(e, "Block nodes could not be reactivated after a failed migration");
            }
        }
        if (stoppedFrom is { } previous)
        {
            try
            {
                _machine.LeaveFinishMigrateAsync(completed: false, previous, CancellationToken.None).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is MachineOperationException or InvalidOperationException)
            {
                _logger.LogError(e, "The machine did not take back its run state after a failed migration");
            }
        }
        Interlocked.Exchange(ref _ended, Stopwatch.GetTimestamp());
        Error = reason;
        if (!cancelled)
            _logger.LogWarning("Migration to {Address} failed: {Reason}", _address.Display, reason);
        _manager.Finish(this, cancelled ? MigrationStatus.Cancelled : MigrationStatus.Failed, reason);
    }
}
