using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Qmp.Block;
using Qmp.Commands;
using Qmp.Commands.Block;
using Qmp.Machine;
using Qmp.Machine.Chardevs;
using Qmp.Machine.Pc;
using Qmp.Migration;
using Qmp.Migration.Channels;
using Qmp.Monitor;
using Qmp.Monitor.Transports;

namespace Qmp.Daemon;

/// <summary>
/// One machine inside the daemon: its translator thread, its command table and its monitors.
/// Start-up listens on every monitor before the guest starts and serves them after; stopping emits SHUTDOWN (for a
/// signal), lets the monitors flush, then ends the machine thread.
/// </summary>
internal sealed class MachineService(MachineSpec spec, IHostApplicationLifetime lifetime, ILoggerFactory loggers, DaemonExitCode exitCode) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = loggers.CreateLogger($"Qmp.Machine[{spec.Config.Name ?? "machine"}]");
    private readonly List<QmpMonitor> _monitors = [];
    private Machine.Machine? _machine;
    private MigrationManager? _migration;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Guest chardevs exist before the board so devices can attach to them, and stay listed
        // in query-chardev like QEMU's (filename: the backend name).
        var backends = spec.Config.CharBackends.ToDictionary(b => b.Id, CharBackendFactory.Create, StringComparer.Ordinal);
        var block = new BlockGraph();
        Func<Machine.Devices.IMachineControl, IMachineBoard>? board = spec.Config.MachineType == MachineTypes.None.Name
            ? null
            : control => new PcBoard(spec.Config, control, b => backends[b.Id], block);
        Machine.Machine machine;
        try
        {
            await OpenBlockAsync(block, cancellationToken).ConfigureAwait(false);
            machine = new Machine.Machine(spec.Config, loggers.CreateLogger<Machine.Machine>(), board, block);
        }
        catch
        {
            foreach (var backend in backends.Values)
                (backend as IDisposable)?.Dispose();
            await block.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        if (spec.Config.MemoryBackend is { } memory)
            machine.Objects.AddExisting(new Machine.Qom.UserObject(memory.Id, memory.Type, memory.Size, memory.Share, null) { InUse = board is not null });
        foreach (var config in spec.Config.CharBackends)
            machine.AddGuestChardev(config.Id, config.Backend, backends[config.Id], config.HasFrontend && board is not null);
        var events = new QmpEventBroadcaster();
        machine.AddObserver(new MachineEventBridge(events));
        BlockEventBridge.Attach(block, events);
        JobEventBridge.Attach(block, events);
        var migration = new MigrationManager(machine, loggers.CreateLogger<MigrationManager>());
        MigrationEventBridge.Attach(migration, events);
        _migration = migration;
        if (spec.Incoming is not null)
            machine.EnterIncomingMigration();
        var commands = MachineCommandSet.Create(machine, migration);
        _machine = machine;

        foreach (var monitorSpec in spec.Monitors)
        {
            var monitor = new QmpMonitor(monitorSpec.Chardev.Id, CreateEndpoint(monitorSpec.Chardev), commands,
                new QmpMonitorOptions { Pretty = monitorSpec.Pretty }, QmpdVersion.Info, loggers.CreateLogger<QmpMonitor>());
            _monitors.Add(monitor);
            events.Add(monitor);
            machine.Chardevs.Add(new Chardev(monitorSpec.Chardev.Id, () => monitor.ChardevFilename) { FrontendOpen = true });
            var waitForClient = monitorSpec.Chardev.Server && monitorSpec.Chardev.Wait;
            try
            {
                await monitor.ListenAsync(waitForClient, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
            {
                // Roll back: the monitors already listening close and unlink their sockets.
                await DisposeAsync().ConfigureAwait(false);
                throw new IOException($"-chardev {monitorSpec.Chardev.Id}: {e.Message}", e);
            }
            _logger.LogInformation("QMP monitor {Label} on {Address}", monitor.Label, monitor.Endpoint.Describe(null).Replace("disconnected:", "", StringComparison.Ordinal));
        }

        machine.Start();
        StartIncoming(machine, migration);
        // Clients are served once the guest runs: none sees start-up's RESUME, or the guest not yet running.
        try
        {
            await machine.Started.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // As a monitor that cannot listen: the monitors already listening close and unlink their sockets.
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
        foreach (var monitor in _monitors)
            monitor.Serve();
        _logger.LogInformation("Machine {Name} ({Type}, {Ram} MiB) started {State}", spec.Config.Name ?? "(unnamed)", spec.Config.MachineType,
            spec.Config.RamSize >> 20, spec.Config.StartPaused ? "paused (-S)" : "running");
        // A destination warms up when its incoming migration starts (IncomingMigration), before the stream comes.
        if (spec.Incoming is null)
            MigrationWarmUp.Start(loggers.CreateLogger(typeof(MigrationWarmUp)));
        _ = machine.ExitRequested.ContinueWith(t =>
        {
            _logger.LogInformation("Machine {Name} asks to exit ({Cause})", spec.Config.Name ?? "(unnamed)", t.Result);
            if (machine.GuestExitCode is { } code)
                exitCode.Set(code);
            lifetime.StopApplication();
        }, TaskScheduler.Default);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_machine is { } machine)
        {
            if (!machine.ExitRequested.IsCompleted)
            {
                // Stopping for any reason other than the machine's own request is a host signal.
                await machine.ShutdownAsync(ShutdownCause.HostSignal, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            await Task.WhenAll(_monitors.Select(m => m.StopAsync(cancellationToken))).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _migration?.Dispose();
            await machine.TerminateAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            // Images are flushed and closed (locks released) once the guest can issue no more I/O.
            await machine.Block.DisposeAsync().ConfigureAwait(false);
        }
        await DisposeAsync().ConfigureAwait(false);
    }

    // -incoming: defer waits for migrate-incoming; a URI listens now, and a bad address ends start-up as in QEMU.
    private void StartIncoming(Machine.Machine machine, MigrationManager migration)
    {
        if (spec.Incoming is not { } incoming)
            return;
        if (incoming == "defer")
        {
            migration.DeferIncoming();
            return;
        }
        try
        {
            migration.Incoming(MigrationUri.Parse(incoming, InheritedFd), fromCommandLine: true);
        }
        catch (MigrationException e)
        {
            throw new CommandLineException("-incoming", e.Message);
        }
        _logger.LogInformation("Machine {Name} waits for an incoming migration on {Uri}", machine.Config.Name ?? "(unnamed)", incoming);
    }

    // -incoming fd:N: a descriptor the process inherited (there is no monitor to getfd into yet).
    private static Microsoft.Win32.SafeHandles.SafeFileHandle? InheritedFd(string name) =>
        int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var fd)
            ? new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true)
            : null;

    // -blockdev and -drive, in order, so later options can refer to earlier nodes. A migration destination
    // opens them inactive: the source still owns the images until it hands them over.
    private async Task OpenBlockAsync(BlockGraph block, CancellationToken cancellationToken)
    {
        foreach (var blockSpec in spec.Block)
        {
            var options = spec.Incoming is null ? blockSpec.Options : blockSpec.Options with { Active = false };
            try
            {
                if (blockSpec.DriveId is { } id)
                {
                    var backend = await block.AddDriveAsync(id, options, cancellationToken).ConfigureAwait(false);
                    backend.ReadErrorPolicy = blockSpec.ReadErrorPolicy;
                    backend.WriteErrorPolicy = blockSpec.WriteErrorPolicy;
                }
                else
                {
                    await block.AddAsync(options, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is BlockException or BlockGraphException)
            {
                throw new CommandLineException(blockSpec.Option, BlockException.Summary(e));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var monitor in _monitors)
            await monitor.DisposeAsync().ConfigureAwait(false);
        _monitors.Clear();
        // Guest chardevs: flush files, close and unlink sockets.
        foreach (var chardev in _machine?.Chardevs.List() ?? [])
        {
            if (chardev.Backend is IDisposable backend)
                backend.Dispose();
        }
    }

    private static QmpEndpoint CreateEndpoint(ChardevSpec chardev) => chardev switch
    {
        { Backend: "stdio" } => new StdioEndpoint(),
        { Server: true, Path: { } path } => SocketServerEndpoint.Unix(path),
        { Server: true, Fd: { } fd } => SocketServerEndpoint.FromFd(fd),
        { Server: true, Port: { } port } => SocketServerEndpoint.Tcp(chardev.Host ?? "127.0.0.1", port),
        { Path: { } path } => SocketClientEndpoint.Unix(path),
        { Fd: { } fd } => SocketClientEndpoint.FromFd(fd),
        { Port: { } port } => SocketClientEndpoint.Tcp(chardev.Host ?? "127.0.0.1", port),
        _ => throw new CommandLineException("-chardev", $"chardev '{chardev.Id}' has no address"),
    };
}
