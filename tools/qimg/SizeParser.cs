using System.Globalization;
using System.Numerics;

namespace Qmp.Img;

/// <summary>
/// QEMU's qemu_strtosz: a decimal (or 0x hex) number of bytes with an optional fraction and a binary suffix
/// B, K, M, G, T, P or E (any case, 1024-based); "1.5k" is 1536, a fraction needs a suffix, '-' is refused.
/// </summary>
internal static class SizeParser
{
    public enum Result
    {
        Ok,
        Invalid,
        Overflow,
    }

    public static Result TryParse(string text, out ulong value)
    {
        value = 0;
        var s = text.TrimStart(' ', '\t', '\n', '\r', '\f', '\v');
        if (s.StartsWith('+'))
            s = s[1..];
        if (s.Contains('-', StringComparison.Ordinal))
            return Result.Invalid;
        var pos = 0;
        while (pos < s.Length && char.IsAsciiDigit(s[pos]))
            pos++;
        if (pos == 0)
            return Result.Invalid;
        if (s[..pos] == "0" && pos < s.Length && (s[pos] is 'x' or 'X'))
        {
            var hex = s[(pos + 1)..];
            if (hex.Length == 0 || !hex.All(char.IsAsciiHexDigit))
                return Result.Invalid;
            if (!ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value))
                return Result.Overflow;
            return Result.Ok;
        }
        if (!ulong.TryParse(s[..pos], NumberStyles.None, CultureInfo.InvariantCulture, out var integral))
            return Result.Overflow;
        var fraction = BigInteger.Zero;
        var fractionScale = BigInteger.One;
        if (pos < s.Length && s[pos] == '.')
        {
            pos++;
            while (pos < s.Length && char.IsAsciiDigit(s[pos]))
            {
                fraction = (fraction * 10) + (s[pos] - '0');
                fractionScale *= 10;
                pos++;
            }
        }
        ulong multiplier = 1;
        if (pos < s.Length && Multiplier(s[pos]) is { } m)
        {
            multiplier = m;
            pos++;
        }
        if (pos != s.Length)
            return Result.Invalid;
        if (multiplier == 1 && !fraction.IsZero)
            return Result.Invalid;
        // Exact: integral × mul + fraction × mul, the fraction rounded half up (QEMU's 64.64 fixed point).
        var total = ((BigInteger)integral * multiplier) + (((fraction * multiplier * 2) + fractionScale) / (fractionScale * 2));
        if (total > ulong.MaxValue)
            return Result.Overflow;
        value = (ulong)total;
        return Result.Ok;
    }

    private static ulong? Multiplier(char suffix) => char.ToUpperInvariant(suffix) switch
    {
        'B' => 1,
        'K' => 1UL << 10,
        'M' => 1UL << 20,
        'G' => 1UL << 30,
        'T' => 1UL << 40,
        'P' => 1UL << 50,
        'E' => 1UL << 60,
        _ => null,
    };
}
