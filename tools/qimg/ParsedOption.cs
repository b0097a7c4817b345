namespace Qmp.Img;

/// <summary>One option getopt returned: its id (short letter or long-only number) and its argument.</summary>
internal readonly record struct ParsedOption(int Id, string? Value)
{
    /// <summary>The argument of an option declared with one (getopt guarantees it).</summary>
    public string Argument => Value ?? "";
}
