namespace Qmp.Block.Backends;

/// <summary>A backend's request counters (QEMU's BlockAcctStats, the <c>stats</c> of query-blockstats). Thread-safe.</summary>
public sealed class BlockAccounting
{
    private long _readBytes, _writeBytes, _unmapBytes;
    private long _readOps, _writeOps, _flushOps, _unmapOps;
    private long _readNs, _writeNs, _flushNs, _unmapNs;
    private long _failedRead, _failedWrite, _failedFlush, _failedUnmap;
    private long _highestWrite;
    private long _lastCompletion = -1;

    public long ReadBytes => Volatile.Read(ref _readBytes);
    public long WriteBytes => Volatile.Read(ref _writeBytes);
    public long UnmapBytes => Volatile.Read(ref _unmapBytes);
    public long ReadOperations => Volatile.Read(ref _readOps);
    public long WriteOperations => Volatile.Read(ref _writeOps);
    public long FlushOperations => Volatile.Read(ref _flushOps);
    public long UnmapOperations => Volatile.Read(ref _unmapOps);
    public long ReadTotalTimeNs => Volatile.Read(ref _readNs);
    public long WriteTotalTimeNs => Volatile.Read(ref _writeNs);
    public long FlushTotalTimeNs => Volatile.Read(ref _flushNs);
    public long UnmapTotalTimeNs => Volatile.Read(ref _unmapNs);
    public long FailedReadOperations => Volatile.Read(ref _failedRead);
    public long FailedWriteOperations => Volatile.Read(ref _failedWrite);
    public long FailedFlushOperations => Volatile.Read(ref _failedFlush);
    public long FailedUnmapOperations => Volatile.Read(ref _failedUnmap);

    /// <summary>The end of the highest write so far (wr_highest_offset).</summary>
    public long WriteHighestOffset => Volatile.Read(ref _highestWrite);

    /// <summary>Nanoseconds since the last request completed (idle_time_ns); null before the first.</summary>
    public long? IdleTimeNs => Volatile.Read(ref _lastCompletion) is var last and >= 0 ? (long)(System.Diagnostics.Stopwatch.GetElapsedTime(last).TotalMilliseconds * 1_000_000) : null;

    internal void Done(BlockRequestKind kind, long bytes, long startTimestamp, bool failed)
    {
        var ns = (long)(System.Diagnostics.Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds * 1_000_000);
        Volatile.Write(ref _lastCompletion, System.Diagnostics.Stopwatch.GetTimestamp());
        switch (kind)
        {
            case BlockRequestKind.Read when failed:
                Interlocked.Increment(ref _failedRead);
                break;
            case BlockRequestKind.Read:
                Interlocked.Add(ref _readBytes, bytes);
                Interlocked.Increment(ref _readOps);
                Interlocked.Add(ref _readNs, ns);
                break;
            case BlockRequestKind.Write when failed:
                Interlocked.Increment(ref _failedWrite);
                break;
            case BlockRequestKind.Write:
                Interlocked.Add(ref _writeBytes, bytes);
                Interlocked.Increment(ref _writeOps);
                Interlocked.Add(ref _writeNs, ns);
                break;
            case BlockRequestKind.Flush when failed:
                Interlocked.Increment(ref _failedFlush);
                break;
            case BlockRequestKind.Flush:
                Interlocked.Increment(ref _flushOps);
                Interlocked.Add(ref _flushNs, ns);
                break;
            case BlockRequestKind.Unmap when failed:
                Interlocked.Increment(ref _failedUnmap);
                break;
            case BlockRequestKind.Unmap:
                Interlocked.Add(ref _unmapBytes, bytes);
                Interlocked.Increment(ref _unmapOps);
                Interlocked.Add(ref _unmapNs, ns);
                break;
        }
    }

    internal void Wrote(long end)
    {
        long current;
        while (end > (current = Volatile.Read(ref _highestWrite)) && Interlocked.CompareExchange(ref _highestWrite, end, current) != current)
        {
        }
    }
}
