using System.Diagnostics;

namespace Qmp.Migration.Stream;

/// <summary>
/// max-bandwidth: the writer may not get ahead of bandwidth × time since its window started; it sleeps out
/// any lead. Windows restart every second so a change of bandwidth (migrate-set-parameters) takes effect
/// at once and an idle spell earns no burst.
/// </summary>
internal sealed class RateLimiter(Func<long> bandwidth, CancellationToken cancellationToken)
{
    private static readonly TimeSpan _window = TimeSpan.FromSeconds(1);
    private long _windowStart = Stopwatch.GetTimestamp();
    private long _windowBytes;

    /// <summary>When false (the downtime phase), nothing is paced.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Counts <paramref name="bytes"/> just written and waits while they are ahead of the bandwidth.</summary>
    public void Account(int bytes)
    {
        var limit = bandwidth();
        if (!Enabled || limit <= 0)
            return;
        _windowBytes += bytes;
        var elapsed = Stopwatch.GetElapsedTime(_windowStart);
        var due = TimeSpan.FromSeconds((double)_windowBytes / limit);
        if (due > elapsed)
        {
            cancellationToken.WaitHandle.WaitOne(due - elapsed);
            cancellationToken.ThrowIfCancellationRequested();
            elapsed = due;
        }
        if (elapsed >= _window)
        {
            _windowStart = Stopwatch.GetTimestamp();
            _windowBytes = 0;
        }
    }
}
