using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Qmp.Daemon;
using Serilog;
using Serilog.Events;

DaemonOptions options;
try
{
    options = QemuCommandLine.Parse(args);
}
catch (CommandLineException e)
{
    Console.Error.WriteLine($"qmpd: {e.Message}");
    return 1;
}

if (options.InfoOutput is { } info)
{
    Console.Out.Write(info);
    return 0;
}

if (options.Daemonize)
{
    if (!Daemonizer.IsChild)
        return Daemonizer.RunParent(args);
    Daemonizer.DetachChild();
}

var logConfig = new LoggerConfiguration()
    .MinimumLevel.Information()
    .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
    .Enrich.FromLogContext()
    .WriteTo.Console(standardErrorFromLevel: LogEventLevel.Verbose, outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} {SourceContext}: {Message:lj}{NewLine}{Exception}");
if (options.LogFile is { } logFile)
    logConfig = logConfig.WriteTo.File(logFile, outputTemplate: "{Timestamp:O} {Level:u3} {SourceContext}: {Message:lj}{NewLine}{Exception}");
Log.Logger = logConfig.CreateLogger();

try
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
    builder.Services.AddSerilog();
    builder.Services.AddSystemd();
    builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
    builder.Services.AddSingleton(options);
    var exitCode = new DaemonExitCode();
    builder.Services.AddSingleton(exitCode);
    foreach (var machine in options.Machines)
        builder.Services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<MachineService>(sp, machine));
    builder.Services.AddHostedService<PidFileService>();
    using var host = builder.Build();
    if (options.IsDefault)
    {
        Log.ForContext("SourceContext", "qmpd").Information("No options given: starting the default machine with QMP on unix:{Unix} and tcp:127.0.0.1:{Port}",
            Path.GetFullPath(QemuCommandLine.DefaultUnixPath), QemuCommandLine.DefaultTcpPort);
    }
    await host.RunAsync().ConfigureAwait(false);
    return exitCode.Code;
}
catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or CommandLineException or UnauthorizedAccessException
    or Qmp.Machine.MachineOperationException)
{
    Log.Fatal("qmpd: {Message}", e.Message);
    Daemonizer.SignalFailure($"qmpd: {e.Message}");
    return 1;
}
catch (Exception e)
{
    Log.Fatal(e, "qmpd failed");
    Daemonizer.SignalFailure($"qmpd: {e.Message}");
    throw;
}
finally
{
    await Log.CloseAndFlushAsync().ConfigureAwait(false);
}
