namespace Qmp.Monitor.Transports;

/// <summary>QMP on the process's stdin and stdout (<c>-qmp stdio</c>): one session, no OOB, like QEMU.</summary>
public sealed class StdioEndpoint : QmpEndpoint
{
    private bool _used;

    /// <inheritdoc/>
    public override bool OfferOob => false;

    /// <inheritdoc/>
    public override Task ListenAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public override Task<QmpConnection?> AcceptAsync(CancellationToken cancellationToken)
    {
        if (_used)
            return Task.FromResult<QmpConnection?>(null);
        _used = true;
        var stream = new DuplexStream(Console.OpenStandardInput(), Console.OpenStandardOutput());
        return Task.FromResult<QmpConnection?>(new QmpConnection(stream, "stdio"));
    }

    /// <inheritdoc/>
    public override string Describe(QmpConnection? current) => "stdio";

    /// <inheritdoc/>
    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
