namespace Qmp.Monitor.Protocol;

/// <summary>
/// Runs what JsonRpc posts right away on the posting thread. JsonRpc awaits its synchronization
/// context before every dispatch; the default one hops to the thread pool each time, which costs
/// more than the command itself. Handlers that wait (for the machine thread, say) still yield,
/// so the read loop stays free for out-of-band commands.
/// </summary>
internal sealed class InlineSynchronizationContext : SynchronizationContext
{
    public override void Post(SendOrPostCallback d, object? state) => d(state);

    public override SynchronizationContext CreateCopy() => this;
}
