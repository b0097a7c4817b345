namespace Qmp.Img;

/// <summary>A getopt_long option: <paramref name="Id"/> is its short letter, or a number ≥ 256 for long-only options.</summary>
internal sealed record LongOption(string Name, bool HasArgument, int Id);
