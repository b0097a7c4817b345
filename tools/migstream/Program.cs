using Qmp.Migration;
using Qmp.Migration.Stream;

// migstream: prints the records of a qmpd migration stream, from a file (optionally at an offset, as
// file:PATH,offset=N writes it) or from stdin ("-", e.g. a pipe from an exec: channel).
if (args.Length is < 1 or > 2 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: migstream FILE|- [OFFSET]");
    return 2;
}
try
{
    using var input = args[0] == "-" ? Console.OpenStandardInput() : File.OpenRead(args[0]);
    if (args.Length == 2)
    {
        if (!long.TryParse(args[1], out var offset) || offset < 0)
        {
            Console.Error.WriteLine($"migstream: bad offset '{args[1]}'");
            return 2;
        }
        if (input.CanSeek)
            input.Position = offset;
        else
            input.ReadExactly(new byte[offset]);
    }
    foreach (var line in MigrationStreamInspector.Describe(input))
        Console.WriteLine(line);
    return 0;
}
catch (Exception e) when (e is MigrationLoadException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"migstream: {e.Message}");
    return 1;
}
