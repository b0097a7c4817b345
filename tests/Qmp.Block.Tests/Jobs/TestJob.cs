using Qmp.Block.Jobs;

namespace Qmp.Block.Tests.Jobs;

/// <summary>A job that "copies" 64 KiB per step through the rate limit until told to finish (or to fail).</summary>
internal sealed class TestJob(JobRegistry registry, string id, JobOptions options) : Job(registry, id, options)
{
    private volatile bool _finish;
    private volatile string? _fail;

    public override string Type => "stream";

    public int Commits { get; private set; }

    public int Aborts { get; private set; }

    public void Finish() => _finish = true;

    public void Fail(string message) => _fail = message;

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        SetTotal(1 << 30);
        while (!_finish)
        {
            if (_fail is { } message)
                throw new BlockException(BlockError.Io, message);
            await Task.Delay(1, cancellationToken);
            await ThrottleAsync(65536, cancellationToken);
        }
    }

    protected override Task CommitAsync(CancellationToken cancellationToken)
    {
        Commits++;
        return Task.CompletedTask;
    }

    protected override Task AbortAsync(CancellationToken cancellationToken)
    {
        Aborts++;
        return Task.CompletedTask;
    }
}
