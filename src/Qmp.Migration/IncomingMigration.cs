using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Qmp.Machine;
using Qmp.Migration.Channels;
using Qmp.Migration.Stream;

namespace Qmp.Migration;

/// <summary>
/// The destination side, on its own thread: accept (or run, or open) the channel, check the configuration,
/// load RAM as it comes, keep the device sections until the end marker, load them all on the machine
/// thread, activate the block nodes, answer the source, and run the guest as the source's was. A failure
/// answers the source with the reason and, as QEMU, ends the process unless exit-on-error was false.
/// </summary>
internal sealed class IncomingMigration : IDisposable
{
    private readonly MigrationManager _manager;
    private readonly Machine.Machine _machine;
    private readonly MigrationAddress _address;
    private readonly bool _exitOnError;
    private readonly bool _lateBlockActivate;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _cancel = new();
    private readonly MigrationListener? _listener;
    private readonly RamCounters _counters = new();
    private long _started;
    private long _ended;

    /// <summary>Binds a socket address at once, so a bad address is refused by the request that gave it.</summary>
    /// <exception cref="MigrationException">The address cannot be bound.</exception>
    public IncomingMigration(MigrationManager manager, Machine.Machine machine, MigrationAddress address, bool exitOnError, bool lateBlockActivate, ILogger logger)
    {
        _manager = manager;
        _machine = machine;
        _address = address;
        _exitOnError = exitOnError;
        _lateBlockActivate = lateBlockActivate;
        _logger = logger;
        if (address is SocketMigrationAddress socket)
            _listener = MigrationListener.Listen(socket);
    }

    /// <summary>The current state; changed only through <see cref="MigrationManager"/>.</summary>
    public MigrationStatus Status { get; set; } = MigrationStatus.Setup;

    /// <summary>Why it failed.</summary>
    public string? Error { get; private set; }

    /// <summary>Starts the thread that waits for the stream.</summary>
    public void Start()
    {
        var thread = new Thread(Run) { Name = "migration incoming", IsBackground = true };
        thread.Start();
    }

    /// <summary>query-migrate's view: the listening address while waiting, the status after.</summary>
    public MigrationProgress Progress() => new()
    {
        Status = Status,
        TotalTime = Status == MigrationStatus.Completed && _started != 0 ? (long)Stopwatch.GetElapsedTime(_started, _ended).TotalMilliseconds : null,
        ErrorDesc = Status == MigrationStatus.Failed ? Error : null,
        SocketAddresses = _listener is not null && Status is MigrationStatus.Setup or MigrationStatus.Active ? [_listener.Bound] : null,
    };

    /// <inheritdoc/>
    public void Dispose()
    {
        _cancel.Cancel();
        _listener?.Dispose();
    }

    private void Run()
    {
        MigrationConnection? connection = null;
        WarmUpLoad();
        try
        {
            connection = _address switch
            {
                SocketMigrationAddress => _listener!.Accept(_cancel.Token),
                ExecMigrationAddress exec => MigrationConnection.FromCommand(exec),
                FileMigrationAddress file => MigrationConnection.FromFile(file),
                FdMigrationAddress fd => MigrationConnection.FromDescriptor(fd, FileAccess.Read),
                _ => throw new MigrationException(MigrationUri.InvalidProtocol),
            };
            _listener?.Dispose();
            _started = Stopwatch.GetTimestamp();
            _manager.Transition(this, MigrationStatus.Setup, MigrationStatus.Active);
            var sourceState = Load(new MigrationReader(connection.Data));

            // The guest may only run once every node is active; with late-block-activate and no autostart, cont activates them.
            if (!(_lateBlockActivate && !_machine.Autostart))
            {
                try
                {
                    _machine.Block.ActivateAllAsync(CancellationToken.None).GetAwaiter().GetResult();
                }
                catch (IOException e)
                {
                    throw new MigrationException($"Could not reactivate block nodes after migration: {e.Message}", e);
                }
            }
            connection.Answer(null);
            connection.Dispose();
            _machine.CompleteIncomingMigrationAsync(sourceState, CancellationToken.None).GetAwaiter().GetResult();
            _ended = Stopwatch.GetTimestamp();
            _manager.Finish(this, MigrationStatus.Completed, null);
            _logger.LogInformation("Incoming migration completed: {Normal} pages, {Zero} zero pages", _counters.Normal, _counters.Zero);
        }
        catch (Exception e)
        {
            // Every failure, expected or a bug, ends here with a reason for the source, never a crash.
            if (_cancel.IsCancellationRequested)
                return;
            if (e is not (MigrationException or MigrationLoadException or IOException or OperationCanceledException or System.Net.Sockets.SocketException or ObjectDisposedException or MachineOperationException))
                _logger.LogError(e, "Incoming migration failed unexpectedly");
            var reason = e is IOException or System.Net.Sockets.SocketException ? $"load of migration failed: {e.Message}" : e.Message;
            connection?.Answer(reason);
            connection?.Dispose();
            _listener?.Dispose();
            Error = reason;
            _logger.LogError("Incoming migration failed: {Reason}", reason);
            _manager.Finish(this, MigrationStatus.Failed, reason);
            if (_exitOnError)
                _machine.ExitAfterFailedIncoming(1);
        }
    }

    // Loading the device sections runs once, inside the downtime, where compiling its code cost tens of
    // milliseconds: load the machine's own (initial) state now, before the stream comes. The real load replaces
    // every section, so this changes nothing the guest sees; a failure only costs the warm-up.
    private void WarmUpLoad()
    {
        try
        {
            _machine.InvokeAsync(() => MachineState.Apply(_machine, MachineState.Capture(_machine, RunState.Running)), _cancel.Token).GetAwaiter().GetResult();
            // The RAM side too (a destination's daemon starts no MigrationWarmUp thread): here it runs before the
            // stream comes instead of beside it.
            MigrationWarmUp.RunOnce();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogDebug(e, "Warming up the device-state load failed");
        }
    }

    // Header and configuration first, then RAM records as they come; device sections are kept and loaded
    // together at the end marker, on the machine thread.
    private RunState Load(MigrationReader reader)
    {
        reader.ReadHeader();
        if (reader.ReadTag() != RecordTag.Config)
            throw new MigrationLoadException("the migration stream does not start with a configuration record");
        var blocks = MachineState.Validate(reader.ReadConfig(), _machine);
        // The first pass carries every page and the guest has not run: start from all-zero RAM, so zero pages
        // cost nothing (memfd RAM, which may be shared, is checked page by page instead).
        var written = blocks.Select(b => b.Discard() ? new long[(b.Pages + 63) / 64] : null).ToList();
        var sections = new List<DeviceSection>();
        while (true)
        {
            switch (reader.ReadTag())
            {
                case RecordTag.Ram:
                    if (sections.Count > 0)
                        throw new MigrationLoadException("RAM record after the device sections");
                    reader.ReadRam(blocks, written, _counters);
                    break;
                case RecordTag.Section:
                    sections.Add(reader.ReadSection());
                    break;
                case RecordTag.End:
                    return _machine.InvokeAsync(() => MachineState.Apply(_machine, sections)).GetAwaiter().GetResult();
                default:
                    throw new MigrationLoadException("a second configuration record in the migration stream");
            }
        }
    }
}
