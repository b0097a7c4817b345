using Qmp.Block.Qcow2;

namespace Qmp.Block.Tests.Qcow2;

public sealed class AsyncReaderWriterLockTests
{
    [Fact]
    public async Task Readers_share_and_a_writer_waits_for_them()
    {
        var rw = new AsyncReaderWriterLock();
        var r1 = await rw.EnterReadAsync(CancellationToken.None);
        var r2 = await rw.EnterReadAsync(CancellationToken.None);
        var writer = rw.EnterWriteAsync(CancellationToken.None).AsTask();
        Assert.False(writer.IsCompleted);
        // A waiting writer holds new readers back.
        var r3 = rw.EnterReadAsync(CancellationToken.None).AsTask();
        Assert.False(r3.IsCompleted);
        r1.Dispose();
        Assert.False(writer.IsCompleted);
        r2.Dispose();
        var w = await writer.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(rw.IsWriteHeld);
        Assert.False(r3.IsCompleted);
        w.Dispose();
        (await r3.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        Assert.False(rw.IsWriteHeld);
    }

    [Fact]
    public async Task Readers_queued_behind_a_writer_go_before_the_next_writer()
    {
        var rw = new AsyncReaderWriterLock();
        var w1 = await rw.EnterWriteAsync(CancellationToken.None);
        var reader = rw.EnterReadAsync(CancellationToken.None).AsTask();
        var w2 = rw.EnterWriteAsync(CancellationToken.None).AsTask();
        w1.Dispose();
        var r = await reader.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(w2.IsCompleted);
        r.Dispose();
        (await w2.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
    }

    [Fact]
    public async Task Cancelled_waiting_writer_releases_the_readers_it_held_back()
    {
        var rw = new AsyncReaderWriterLock();
        var r1 = await rw.EnterReadAsync(CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var writer = rw.EnterWriteAsync(cts.Token).AsTask();
        var r2 = rw.EnterReadAsync(CancellationToken.None).AsTask();
        Assert.False(r2.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writer);
        (await r2.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        r1.Dispose();
        (await rw.EnterWriteAsync(CancellationToken.None)).Dispose();
    }

    [Fact]
    public async Task Writers_are_mutually_exclusive_under_contention()
    {
        var rw = new AsyncReaderWriterLock();
        var inside = 0;
        var readers = 0;
        var tasks = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            for (var n = 0; n < 200; n++)
            {
                if ((n + i) % 3 == 0)
                {
                    using (await rw.EnterWriteAsync(CancellationToken.None))
                    {
                        Assert.Equal(1, Interlocked.Increment(ref inside));
                        Assert.Equal(0, Volatile.Read(ref readers));
                        await Task.Yield();
                        Interlocked.Decrement(ref inside);
                    }
                }
                else
                {
                    using (await rw.EnterReadAsync(CancellationToken.None))
                    {
                        Interlocked.Increment(ref readers);
                        Assert.Equal(0, Volatile.Read(ref inside));
                        await Task.Yield();
                        Interlocked.Decrement(ref readers);
                    }
                }
            }
        })).ToArray();
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(30));
    }
}
