namespace Qmp.Img;

/// <summary>QEMU's size_to_str ("324 KiB", "1 MiB", "0.977 KiB"): the value in the largest unit below 1000 of it, printed with C's %0.3g.</summary>
internal static class SizeFormatter
{
    private static readonly string[] _suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

    public static string Format(long bytes)
    {
        var val = (double)(ulong)bytes;
        // frexp(val / (1000.0 / 1024.0)): the correction switches units once the integer part reaches 1000.
        var scaled = val / (1000.0 / 1024.0);
        var exponent = scaled == 0 ? 0 : Math.ILogB(scaled) + 1;
        var unit = (exponent - 1) / 10;
        var divided = val / Math.Pow(2, unit * 10);
        return $"{CFormat.G(divided, 3)} {_suffixes[unit]}B";
    }
}
