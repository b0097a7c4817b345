using System.Buffers;
using Qmp.Block;
using Qmp.Block.Backends;
using static Qmp.Machine.Devices.Virtio.VirtioBlkProtocol;

namespace Qmp.Machine.Devices.Virtio;

// Running requests: submission and completion on the machine thread, the I/O itself on the thread pool.
internal sealed partial class VirtioBlk
{
    /// <summary>
    /// Bytes of request data the device buffers at once (64 MiB); a request that would go over waits until
    /// others complete (one alone may be larger), so a guest cannot make the host allocate without bound.
    /// </summary>
    internal long MaxBytesInFlight { get; set; } = 64L * 1024 * 1024;

    // Requests parsed but not issued: during a drained section, over the memory budget, or behind those.
    private readonly Queue<VirtioBlkRequest> _pending = new();

    // Requests a stop policy kept (QEMU's s->rq), in the order they failed.
    private readonly List<VirtioBlkRequest> _kept = [];

    // Requests issued and not completed yet, in issue order (what a migration must run again).
    private readonly LinkedList<VirtioBlkRequest> _active = new();

    private long _bytesInFlight;

    /// <summary>
    /// Test seam, like QEMU's blkdebug: runs on the I/O thread after the backend finished a request and may
    /// delay its completion or fail it (a thrown exception replaces a success).
    /// </summary>
    internal Func<VirtioBlkOperation, long, ValueTask>? IoCompletionHook { get; set; }

    private void Submit(VirtioBlkRequest request)
    {
        // Behind earlier ones, so requests are issued in the order the guest made them available.
        if (_pending.Count > 0 || Quiesced || OverBudget(request))
        {
            _pending.Enqueue(request);
            return;
        }
        Start(request);
    }

    private void SubmitPending()
    {
        while (_pending.Count > 0 && !Quiesced && !OverBudget(_pending.Peek()))
            Start(_pending.Dequeue());
    }

    private bool OverBudget(VirtioBlkRequest request) =>
        request.HasData && _bytesInFlight > 0 && _bytesInFlight + request.Length > MaxBytesInFlight;

    private void Start(VirtioBlkRequest request)
    {
        var backend = _backend;
        var control = _control;
        if (backend is null || control is null)
            return;
        if (request.HasData)
        {
            var buffer = ArrayPool<byte>.Shared.Rent((int)request.Length);
            // Write data is gathered here, on the machine thread: the I/O thread never reads guest memory.
            if (request.Operation == VirtioBlkOperation.Write)
                request.Element.Read(OutHeaderSize, buffer.AsSpan(0, (int)request.Length));
            request.Buffer = buffer;
            _bytesInFlight += request.Length;
        }
        // Writethrough (wce=0) makes every write durable before it completes, as QEMU's BDRV_REQ_FUA.
        if (!WriteCache && request.Operation is VirtioBlkOperation.Write or VirtioBlkOperation.WriteZeroes)
            request.Flags |= BlockWriteFlags.Fua;
        request.Backend = backend;
        request.Post = control.Post;
        request.Generation = _generation;
        request.Active = _active.AddLast(request);
        Interlocked.Increment(ref _inFlight);
        _ = Task.Run(() => ExecuteAsync(request));
    }

    // The I/O thread's part. The request counts as in flight (DrainedPoll) until its completion is posted,
    // so a drain that returns has every completion queued for the machine thread before anything after it.
    private async Task ExecuteAsync(VirtioBlkRequest request)
    {
        Exception? error = null;
        var counted = true;
        try
        {
            var io = Issue(request);
            // A request that met a drained section's gate waits there without running: counting it would
            // hold that very section forever. The backend counts it again once it enters.
            if (!io.IsCompleted && request.Backend!.Quiesced)
            {
                counted = false;
                Interlocked.Decrement(ref _inFlight);
            }
            await io.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            error = e;
        }
        if (!counted)
            Interlocked.Increment(ref _inFlight);
        try
        {
            if (IoCompletionHook is { } hook)
                await hook(request.Operation, request.Offset).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            error ??= e;
        }
        try
        {
            request.Post!(() => OnCompleted(request, error));
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static ValueTask Issue(VirtioBlkRequest request)
    {
        var backend = request.Backend!;
        var length = (int)Math.Min(request.Length, int.MaxValue);
        return request.Operation switch
        {
            VirtioBlkOperation.Read => backend.ReadAsync(request.Offset, request.Buffer.AsMemory(0, length)),
            VirtioBlkOperation.Write => backend.WriteAsync(request.Offset, request.Buffer.AsMemory(0, length), request.Flags),
            VirtioBlkOperation.Flush => backend.FlushAsync(),
            VirtioBlkOperation.Discard => backend.DiscardAsync(request.Offset, request.Length),
            _ => backend.WriteZeroesAsync(request.Offset, request.Length, request.Flags),
        };
    }

    // Machine thread: QEMU's virtio_blk_rw_complete and friends.
    private void OnCompleted(VirtioBlkRequest request, Exception? error)
    {
        var buffer = request.Buffer;
        request.Buffer = null;
        if (buffer is not null)
            _bytesInFlight -= request.Length;
        if (request.Active is { List: not null } active)
            _active.Remove(active);
        request.Active = null;
        try
        {
            // Issued before a reset, an unrealize or a state load: the rings and buffers are no longer its.
            if (request.Generation != _generation || _backend is null)
                return;
            if (error is null)
            {
                if (request.Operation == VirtioBlkOperation.Read && buffer is not null)
                    request.Element.Write(0, buffer.AsSpan(0, (int)request.Length));
                Finish(request.Queue, request.Element, StatusOk);
                return;
            }
            var failure = BlockException.FromHost(error, $"virtio-blk {request.Operation} at {request.Offset}");
            switch (_backend.HandleError(request.IsRead, failure))
            {
                case BlockErrorAction.Stop:
                    // Kept to run again from the ring's descriptors when the machine resumes (or on the
                    // migration target); the guest sees nothing until then.
                    _kept.Add(request);
                    _control?.StopForIoError();
                    break;
                case BlockErrorAction.Ignore:
                    Finish(request.Queue, request.Element, StatusOk);
                    break;
                default:
                    Finish(request.Queue, request.Element, StatusIoError);
                    break;
            }
        }
        finally
        {
            if (buffer is not null)
                ArrayPool<byte>.Shared.Return(buffer);
            SubmitPending();
        }
    }

    // The machine runs again (cont, or the start of a migration target): parse and submit the kept requests
    // afresh, in the order they failed, then look at the rings, as QEMU kicks every queue when it starts
    // the device again: requests made available while the source was stopped or drained got no kick here.
    private void OnResumed()
    {
        var kept = _kept.ToArray();
        _kept.Clear();
        foreach (var request in kept)
        {
            // A request that now breaks the device ends the restart; the reset that must follow drops the rest.
            if (!HandleElement(request.Queue, request.Element))
                return;
        }
        Rescan();
    }
}
