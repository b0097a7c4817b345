using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Qmp.Monitor.Protocol;
using Qmp.Schema.Json;

namespace Qmp.Monitor;

/// <summary>The session's input side: reading the client, splitting messages, queueing them.</summary>
public sealed partial class QmpSession
{
    /// <summary>
    /// Reads a socket client on a thread of its own (see <see cref="Transports.SocketStream"/>): reads
    /// block there, and the commands they complete are dispatched on it too, so a command costs one
    /// thread wake-up. Closing shuts the socket's input down, which ends the blocked read.
    /// </summary>
    private Task ReceiveOnOwnThread()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _closing.Token.Register(ShutdownInput);
        var thread = new Thread(() =>
        {
            try
            {
                // Every await in the loop completes synchronously on this stream, so this runs to the end here.
                ReceiveAsync(ownThread: true, _closing.Token).GetAwaiter().GetResult();
                done.TrySetResult();
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        })
        {
            IsBackground = true,
            Name = $"qmp {Peer}",
        };
        thread.Start();
        return done.Task;
    }

    private void ShutdownInput()
    {
        try
        {
            _stream.Socket()?.Shutdown(System.Net.Sockets.SocketShutdown.Receive);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            _logger.LogDebug(e, "Shutting down input of {Peer}", Peer);
        }
    }

    private async Task ReceiveAsync(bool ownThread, CancellationToken cancellationToken)
    {
        var parser = new JsonStreamParser();
        var buffer = new byte[16 * 1024];
        try
        {
            while (!_inputDone)
            {
                // Without OOB nothing more is read until the queue drains; with OOB, up to the limit.
                while (!_inputDone && _inBand.Count >= InBandLimit)
                {
                    // Ask to be woken, then look again: a dequeue between the test and the flag
                    // would otherwise go unnoticed.
                    Volatile.Write(ref _receiveWaiting, 1);
                    if (_inBand.Count < InBandLimit)
                    {
                        Volatile.Write(ref _receiveWaiting, 0);
                        break;
                    }
                    if (ownThread)
                        _inBandRoom.Wait(cancellationToken);
                    else
                        await _inBandRoom.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                var read = await _stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                    break;
                foreach (var message in parser.Feed(buffer.AsSpan(0, read)))
                    Accept(message);
                // One wake for the whole chunk: the dispatcher then works through it in one go
                // (on this thread), and the replies can leave in one write.
                _wake.Set();
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            _logger.LogDebug("QMP input from {Peer} ended: {Reason}", Peer, e.Message);
        }
        _inputDone = true;
        _closing.CancelAfter(_options.DisconnectGrace);
        _wake.Set();
    }

    private void Accept(JsonMessage message)
    {
        if (_inputDone)
            return;
        // Out-of-band requests skip the queue only once OOB is on; before that they keep their place
        // so that their error arrives in order, as QEMU (which reads no further) would send it.
        if (_oobEnabled && message.Value is JsonObject obj && QmpDispatchCheck.IsOob(obj))
        {
            _ = HandleOutOfBandAsync(obj);
            return;
        }
        _inBand.Enqueue(message);
    }
}
