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
    private static readonly TimeSpan _slice = TimeSpan.FromMilliseconds(100);
    private long _windowStart = Stopwatch.GetTimestamp();
    private long _windowBytes;

    /// <summary>When false (the downtime phase), nothing is paced.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Counts <paramref name="bytes"/> just written and waits while they are ahead of the bandwidth.</summary>
    public void Account(int bytes)
    {
        if (!Enabled || bandwidth() <= 0)
            return;
        _windowBytes += bytes;
        while (true)
        {
            var limit = bandwidth();
            var elapsed = Stopwatch.GetElapsedTime(_windowStart);
            var due = limit <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((double)_windowBytes / limit);
            if (due <= elapsed)
                break;
            // In slices, the bandwidth read again after each: a raised max-bandwidth takes effect within one, not
            // after a wait computed from the old limit (up to 16 s for a 1 MiB flush at 64 KiB/s).
            cancellationToken.WaitHandle.WaitOne(due - elapsed < _slice ? due - elapsed : _slice);
            cancellationToken.ThrowIfCancellationRequested();
        }
        if (Stopwatch.GetElapsedTime(_windowStart) >= _window)
        {
            _windowStart = Stopwatch.GetTimestamp();
            _windowBytes = 0;
        }
    }
}
