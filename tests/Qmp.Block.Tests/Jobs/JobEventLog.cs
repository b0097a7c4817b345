using System.Collections.Concurrent;
using Qmp.Block.Jobs;

namespace Qmp.Block.Tests.Jobs;

/// <summary>Records a registry's events as QMP-like strings ("running", "BLOCK_JOB_COMPLETED").</summary>
internal sealed class JobEventLog
{
    private readonly ConcurrentQueue<string> _events = new();

    public JobEventLog(JobRegistry registry)
    {
        registry.StatusChanged += (_, s) => _events.Enqueue(JobStateMachine.Name(s));
        registry.Completed += j => _events.Enqueue(j.Error is null ? "BLOCK_JOB_COMPLETED" : $"BLOCK_JOB_COMPLETED({j.Error})");
        registry.Cancelled += _ => _events.Enqueue("BLOCK_JOB_CANCELLED");
        registry.Pending += _ => _events.Enqueue("BLOCK_JOB_PENDING");
        registry.Ready += _ => _events.Enqueue("BLOCK_JOB_READY");
        registry.Error += (_, read, action) => _events.Enqueue($"BLOCK_JOB_ERROR({(read ? "read" : "write")},{action.ToString().ToLowerInvariant()})");
    }

    public IReadOnlyList<string> Events => [.. _events];

    /// <summary>Takes what was recorded so far.</summary>
    public IReadOnlyList<string> Take()
    {
        var list = new List<string>();
        while (_events.TryDequeue(out var e))
            list.Add(e);
        return list;
    }

    /// <summary>Waits until <paramref name="expected"/> was recorded (as the last event so far), 20 s unless told.</summary>
    public async Task WaitForAsync(string expected, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!_events.Contains(expected))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no '{expected}' event; got {string.Join(", ", _events)}");
            await Task.Delay(2);
        }
    }
}
