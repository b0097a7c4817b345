using Microsoft.Win32.SafeHandles;

namespace Qmp.Monitor.Tests;

/// <summary>The monitor's named descriptors.</summary>
public sealed class MonitorFdStoreTests
{
    private static SafeFileHandle OpenNull() => File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read);

    [Fact]
    public void Take_hands_the_descriptor_over_and_forgets_the_name()
    {
        using var store = new MonitorFdStore();
        using var fd = OpenNull();
        store.Add("a", fd);
        Assert.Same(fd, store.Take("a"));
        Assert.False(fd.IsClosed);
        Assert.False(store.Close("a"));
    }

    [Fact]
    public void Disposing_the_store_closes_what_it_holds()
    {
        var fd = OpenNull();
        var store = new MonitorFdStore();
        store.Add("a", fd);
        store.Dispose();
        Assert.True(fd.IsClosed);
        var late = OpenNull();
        store.Add("b", late);
        Assert.True(late.IsClosed);
    }
}
