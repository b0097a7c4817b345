using Qmp.Block;
using Qmp.Img;

// qimg: qemu-img's create, info, check, convert, compare, map and resize over qmpd's block layer
// (src/Qmp.Block), with qemu-img's options, output and exit codes.
var exit = 1;
// Block I/O runs as blocking preads/pwrites on pool threads: have enough of them from the start instead of
// waiting for the pool's slow thread injection (QEMU's own I/O thread pool allows 64).
ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
ThreadPool.SetMinThreads(Math.Max(minWorkers, 32), minIo);
try
{
    if (args.Length == 0)
        throw new UsageException("Not enough arguments");
    var rest = args[1..];
    exit = args[0] switch
    {
        "create" => await CreateCommand.RunAsync(rest, CancellationToken.None),
        "info" => await InfoCommand.RunAsync(rest, CancellationToken.None),
        "check" => await CheckCommand.RunAsync(rest, CancellationToken.None),
        "convert" => await ConvertCommand.RunAsync(rest, CancellationToken.None),
        "compare" => await CompareCommand.RunAsync(rest, CancellationToken.None),
        "map" => await MapCommand.RunAsync(rest, CancellationToken.None),
        "resize" => await ResizeCommand.RunAsync(rest, CancellationToken.None),
        "-h" or "--help" => Usage.Print(),
        "-V" or "--version" => Version(),
        _ => throw new UsageException($"Command not found: {args[0]}"),
    };
}
catch (UsageException e)
{
    Terminal.Report(e.Message);
    Terminal.Error.Write($"Try '{Terminal.ProgramName} --help' for more information\n");
    exit = 1;
}
catch (ImgException e)
{
    if (e.Message.Length > 0)
        Terminal.Report(e.Message);
    if (e.Hint is not null)
        Terminal.Error.Write(e.Hint);
    exit = e.ExitCode;
}
catch (Exception e) when (e is BlockException or BlockGraphException)
{
    Terminal.Report(e.Message);
    exit = 1;
}
Terminal.Out.Flush();
return exit;

static int Version()
{
    Terminal.Out.Write($"{Terminal.ProgramName} version {typeof(ImageHandle).Assembly.GetName().Version} (qemu-img 7.2 compatible)\n");
    return 0;
}
