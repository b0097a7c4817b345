using System.Globalization;
using System.Numerics;
using System.Text;

namespace Qmp.Img;

/// <summary>C printf's %.Ng and %.Nf for non-negative doubles, rounding the exact binary value half to even as glibc does (.NET rounds ties away from zero).</summary>
internal static class CFormat
{
    /// <summary>printf("%.<paramref name="precision"/>g").</summary>
    public static string G(double value, int precision)
    {
        if (value == 0)
            return "0";
        var (numerator, denominator) = Exact(value);
        var exponent = (int)Math.Floor(Math.Log10(value));
        // Fix the estimate so that 10^exponent <= value < 10^(exponent+1).
        while (Compare(numerator, denominator, exponent) < 0)
            exponent--;
        while (Compare(numerator, denominator, exponent + 1) >= 0)
            exponent++;
        var digits = RoundedDigits(numerator, denominator, precision - 1 - exponent);
        if (digits >= BigInteger.Pow(10, precision))
        {
            exponent++;
            digits = RoundedDigits(numerator, denominator, precision - 1 - exponent);
        }
        var text = digits.ToString(CultureInfo.InvariantCulture);
        if (exponent < -4 || exponent >= precision)
        {
            var mantissa = StripZeros(text.Length > 1 ? text[..1] + "." + text[1..] : text);
            return $"{mantissa}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent):D2}";
        }
        var decimals = precision - 1 - exponent;
        if (decimals <= 0)
            return text + new string('0', -decimals);
        text = text.PadLeft(decimals + 1, '0');
        return StripZeros(text[..^decimals] + "." + text[^decimals..]);
    }

    private static string StripZeros(string text)
    {
        if (!text.Contains('.', StringComparison.Ordinal))
            return text;
        var builder = new StringBuilder(text.TrimEnd('0'));
        if (builder[^1] == '.')
            builder.Length--;
        return builder.ToString();
    }

    // value = numerator / denominator exactly.
    private static (BigInteger Numerator, BigInteger Denominator) Exact(double value)
    {
        var bits = BitConverter.DoubleToInt64Bits(value);
        var rawExponent = (int)((bits >> 52) & 0x7FF);
        var mantissa = bits & ((1L << 52) - 1);
        if (rawExponent == 0)
            rawExponent++;
        else
            mantissa |= 1L << 52;
        var shift = rawExponent - 1075;
        return shift >= 0 ? (new BigInteger(mantissa) << shift, BigInteger.One) : (new BigInteger(mantissa), BigInteger.One << -shift);
    }

    // Sign of value - 10^exponent.
    private static int Compare(BigInteger numerator, BigInteger denominator, int exponent) =>
        exponent >= 0
            ? numerator.CompareTo(denominator * BigInteger.Pow(10, exponent))
            : (numerator * BigInteger.Pow(10, -exponent)).CompareTo(denominator);

    // round_half_even(value × 10^scale).
    private static BigInteger RoundedDigits(BigInteger numerator, BigInteger denominator, int scale)
    {
        if (scale >= 0)
            numerator *= BigInteger.Pow(10, scale);
        else
            denominator *= BigInteger.Pow(10, -scale);
        var quotient = BigInteger.DivRem(numerator, denominator, out var remainder);
        var twice = remainder * 2;
        var cmp = twice.CompareTo(denominator);
        if (cmp > 0 || (cmp == 0 && !quotient.IsEven))
            quotient++;
        return quotient;
    }

    /// <summary>printf("%.<paramref name="decimals"/>f").</summary>
    public static string F(double value, int decimals)
    {
        var (numerator, denominator) = Exact(value);
        var text = RoundedDigits(numerator, denominator, decimals).ToString(CultureInfo.InvariantCulture);
        if (decimals == 0)
            return text;
        text = text.PadLeft(decimals + 1, '0');
        return text[..^decimals] + "." + text[^decimals..];
    }
}
