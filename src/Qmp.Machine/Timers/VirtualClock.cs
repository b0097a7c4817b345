using System.Diagnostics;

namespace Qmp.Machine.Timers;

/// <summary>
/// The guest's clock (QEMU's QEMU_CLOCK_VIRTUAL): nanoseconds that advance with host time while
/// the machine runs and stand still while it is stopped, so the guest sees no jump on stop/cont.
/// Readable from any thread.
/// </summary>
public sealed class VirtualClock
{
    private readonly object _lock = new();
    private long _offset;
    private long _pausedAt;
    private bool _running;

    /// <summary>Creates a stopped clock at zero.</summary>
    public VirtualClock() => _offset = -HostNanoseconds();

    /// <summary>Nanoseconds of guest time.</summary>
    public long Now
    {
        get
        {
            lock (_lock)
                return _running ? HostNanoseconds() + _offset : _pausedAt;
        }
    }

    /// <summary>Whether time is advancing.</summary>
    public bool Running
    {
        get
        {
            lock (_lock)
                return _running;
        }
    }

    /// <summary>Starts (or resumes) the clock from where it stopped.</summary>
    public void Resume()
    {
        lock (_lock)
        {
            if (_running)
                return;
            _offset = _pausedAt - HostNanoseconds();
            _running = true;
        }
    }

    /// <summary>Stops the clock.</summary>
    public void Pause()
    {
        lock (_lock)
        {
            if (!_running)
                return;
            _pausedAt = HostNanoseconds() + _offset;
            _running = false;
        }
    }

    /// <summary>
    /// Sets the time of a stopped clock (incoming migration: the guest continues from the source's
    /// time, so armed device timers keep their distance to now).
    /// </summary>
    /// <exception cref="InvalidOperationException">The clock is running.</exception>
    public void Restore(long now)
    {
        lock (_lock)
        {
            if (_running)
                throw new InvalidOperationException("the virtual clock can only be restored while stopped");
            _pausedAt = now;
        }
    }

    /// <summary>Host monotonic time in nanoseconds.</summary>
    public static long HostNanoseconds() => (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
}
