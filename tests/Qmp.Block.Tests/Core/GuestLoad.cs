using Qmp.Block.Backends;

namespace Qmp.Block.Tests.Core;

/// <summary>
/// Guest I/O that ignores drained sections on purpose: <paramref name="workers"/> tasks issue random reads
/// and writes through a backend in a loop until disposed, so only the backend's gate can hold them.
/// </summary>
internal sealed class GuestLoad : IAsyncDisposable
{
    private readonly BlockBackend _backend;
    private readonly long _span;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _workers;
    private Exception? _fault;

    public GuestLoad(BlockBackend backend, int workers, long span)
    {
        _backend = backend;
        _span = span;
        _workers = [.. Enumerable.Range(0, workers).Select(i => Task.Run(() => RunAsync(i)))];
    }

    /// <summary>Requests that completed, as the backend counted them (before it let go of them).</summary>
    public long Completed
    {
        get
        {
            var stats = _backend.Stats;
            return stats.ReadOperations + stats.WriteOperations + stats.FailedReadOperations + stats.FailedWriteOperations;
        }
    }

    /// <summary>Waits until at least <paramref name="more"/> requests complete after <paramref name="since"/>; fails if they never do.</summary>
    public async Task WaitForProgressAsync(long since, long more = 8)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (Completed < since + more)
        {
            ThrowIfFaulted();
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"guest I/O made no progress: {Completed - since} requests completed since {since}");
            await Task.Delay(1);
        }
    }

    /// <summary>The first request that failed; its worker stopped there.</summary>
    public Exception? Fault => Volatile.Read(ref _fault);

    public void ThrowIfFaulted()
    {
        if (Fault is { } fault)
            throw new InvalidOperationException("a guest worker failed", fault);
    }

    /// <summary>Waits until a worker failed; fails if none does.</summary>
    public async Task<Exception> WaitForFaultAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (Fault is null)
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail("no guest request failed");
            await Task.Delay(1);
        }
        return Fault;
    }

    /// <summary>Stops the workers (after the sections that hold them ended); faults are the tests' to check.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers).WaitAsync(TimeSpan.FromSeconds(30));
        _stop.Dispose();
    }

    private async Task RunAsync(int seed)
    {
        var random = new Random(seed);
        var buffer = new byte[4096];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var offset = random.NextInt64(_span / 512 - 8) * 512;
                if (random.Next(2) == 0)
                {
                    await _backend.ReadAsync(offset, buffer);
                }
                else
                {
                    random.NextBytes(buffer);
                    await _backend.WriteAsync(offset, buffer);
                }
            }
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _fault, e, null);
        }
    }
}
