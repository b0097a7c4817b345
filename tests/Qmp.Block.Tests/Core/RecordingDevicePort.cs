using Qmp.Block.Backends;

namespace Qmp.Block.Tests.Core;

/// <summary>A device frontend that records the drain callbacks it gets; <see cref="Busy"/> is what it answers to DrainedPoll.</summary>
internal sealed class RecordingDevicePort : IBlockDevicePort
{
    private int _depth;
    private int _maxDepth;
    private int _begins;
    private int _ends;
    private int _unpairedEnds;
    private int _polls;

    public volatile bool Busy;

    public string QomPath => "/machine/peripheral/vd0/virtio-backend";

    public int Depth => Volatile.Read(ref _depth);

    public int MaxDepth => Volatile.Read(ref _maxDepth);

    public int Begins => Volatile.Read(ref _begins);

    public int Ends => Volatile.Read(ref _ends);

    public int UnpairedEnds => Volatile.Read(ref _unpairedEnds);

    public int Polls => Volatile.Read(ref _polls);

    public void DrainedBegin()
    {
        Interlocked.Increment(ref _begins);
        var depth = Interlocked.Increment(ref _depth);
        int max;
        while (depth > (max = Volatile.Read(ref _maxDepth)) && Interlocked.CompareExchange(ref _maxDepth, depth, max) != max)
        {
        }
    }

    public void DrainedEnd()
    {
        Interlocked.Increment(ref _ends);
        if (Interlocked.Decrement(ref _depth) < 0)
        {
            Interlocked.Increment(ref _unpairedEnds);
            Interlocked.Increment(ref _depth);
        }
    }

    public bool DrainedPoll()
    {
        Interlocked.Increment(ref _polls);
        return Busy;
    }

    public void Resized()
    {
    }
}
