using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Qmp.Migration;

/// <summary>Where the downtime went: milliseconds per step of the switchover, for the completion log line.</summary>
internal sealed class SwitchoverPhases(long start)
{
    private readonly StringBuilder _text = new();
    private long _last = start;

    /// <summary>Ends the step called <paramref name="name"/> now.</summary>
    public void Mark(string name)
    {
        var now = Stopwatch.GetTimestamp();
        if (_text.Length > 0)
            _text.Append(", ");
        _text.Append(CultureInfo.InvariantCulture, $"{name} {Stopwatch.GetElapsedTime(_last, now).TotalMilliseconds:F1}");
        _last = now;
    }

    /// <inheritdoc/>
    public override string ToString() => _text.ToString();
}
