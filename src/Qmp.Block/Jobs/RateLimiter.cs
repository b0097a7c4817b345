namespace Qmp.Block.Jobs;

/// <summary>
/// A token bucket on bytes (QEMU's RateLimit with 100 ms slices): each slice allows speed/10 bytes,
/// a job that went over waits until its debt is paid. Speed 0 is unlimited.
/// </summary>
internal sealed class RateLimiter
{
    private static readonly TimeSpan s_slice = TimeSpan.FromMilliseconds(100);
    private readonly object _lock = new();
    private long _speed;
    private long _sliceStartTicks = Environment.TickCount64;
    private long _dispatched;

    /// <summary>The limit in bytes per second; 0 = unlimited.</summary>
    public long Speed
    {
        get => Volatile.Read(ref _speed);
        set
        {
            lock (_lock)
            {
                _speed = value;
                _dispatched = 0;
                _sliceStartTicks = Environment.TickCount64;
            }
        }
    }

    /// <summary>Accounts <paramref name="bytes"/> and returns the tick count (ms) until which the job must wait; 0 when it need not.</summary>
    public long Account(long bytes)
    {
        lock (_lock)
        {
            if (_speed <= 0)
                return 0;
            var now = Environment.TickCount64;
            var quota = Math.Max(1, _speed * (long)s_slice.TotalMilliseconds / 1000);
            if (now - _sliceStartTicks >= s_slice.TotalMilliseconds)
            {
                _sliceStartTicks = now;
                _dispatched = 0;
            }
            _dispatched += bytes;
            if (_dispatched <= quota)
                return 0;
            // The bytes over quota need whole further slices.
            var slices = (_dispatched - 1) / quota;
            _sliceStartTicks += (long)(slices * s_slice.TotalMilliseconds);
            _dispatched -= slices * quota;
            return _sliceStartTicks;
        }
    }
}
