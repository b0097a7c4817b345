using Qmp.Migration.Stream;

namespace Qmp.Migration.Tests;

public sealed class RateLimiterTests
{
    [Fact]
    public async Task A_raised_bandwidth_ends_a_wait_computed_from_the_old_one()
    {
        var limit = 65536L;
        var limiter = new RateLimiter(() => Volatile.Read(ref limit), CancellationToken.None);
        // 1 MiB at 64 KiB/s is a 16 s wait; raised to 1 GB/s, it must end long before that.
        var account = Task.Run(() => limiter.Account(1 << 20));
        await Task.Delay(200);
        Assert.False(account.IsCompleted);
        Volatile.Write(ref limit, 1_000_000_000);
        var ended = await Task.WhenAny(account, Task.Delay(TimeSpan.FromSeconds(12)));
        Assert.Same(account, ended);
    }
}
