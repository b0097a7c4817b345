using Microsoft.Win32.SafeHandles;
using Qmp.Machine;
using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands.Tests;

/// <summary>getfd and closefd against a monitor context with an in-memory store.</summary>
public sealed class FdCommandTests : IDisposable
{
    private readonly Machine.Machine _machine = new(new MachineConfig { Name = "fds", StartPaused = true });
    private readonly MiscCommands _misc;
    private readonly InMemoryFdStore _store = new();
    private SafeFileHandle? _received;

    public FdCommandTests()
    {
        var hmp = new HumanMonitor(_machine, new ControlCommands(_machine), new MachineCommands(_machine), new CharCommands(_machine));
        _misc = new MiscCommands(_machine, hmp);
        QmpRequestContext.Current = new QmpRequestContext(_store, () => Interlocked.Exchange(ref _received, null));
    }

    public void Dispose()
    {
        QmpRequestContext.Current = null;
        _machine.Dispose();
    }

    private static SafeFileHandle OpenNull() => File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read);

    private Task GetfdAsync(string name) => _misc.GetfdAsync(new GetfdArguments { Fdname = name }, CancellationToken.None).AsTask();

    private Task ClosefdAsync(string name) => _misc.ClosefdAsync(new ClosefdArguments { Fdname = name }, CancellationToken.None).AsTask();

    [Fact]
    public async Task Getfd_without_a_descriptor_fails_with_QEMUs_text()
    {
        var e = await Assert.ThrowsAsync<QmpErrorException>(() => GetfdAsync("x"));
        Assert.Equal("No file descriptor supplied via SCM_RIGHTS", e.Message);
    }

    [Fact]
    public async Task Getfd_stores_the_received_descriptor_and_closefd_closes_it()
    {
        var fd = OpenNull();
        _received = fd;
        await GetfdAsync("x");
        Assert.Same(fd, _store.Peek("x"));
        await ClosefdAsync("x");
        Assert.True(fd.IsClosed);
        var e = await Assert.ThrowsAsync<QmpErrorException>(() => ClosefdAsync("x"));
        Assert.Equal("File descriptor named 'x' not found", e.Message);
    }

    [Fact]
    public async Task Reusing_a_name_closes_the_old_descriptor()
    {
        var first = OpenNull();
        _received = first;
        await GetfdAsync("x");
        _received = OpenNull();
        await GetfdAsync("x");
        Assert.True(first.IsClosed);
        Assert.False(_store.Peek("x")!.IsClosed);
    }

    [Fact]
    public async Task A_name_starting_with_a_digit_is_refused_and_the_descriptor_closed()
    {
        var fd = OpenNull();
        _received = fd;
        var e = await Assert.ThrowsAsync<QmpErrorException>(() => GetfdAsync("1abc"));
        Assert.Equal("Parameter 'fdname' expects a name not starting with a digit", e.Message);
        Assert.True(fd.IsClosed);
        Assert.Null(_store.Peek("1abc"));
    }

    [Fact]
    public async Task The_empty_name_is_a_name()
    {
        _received = OpenNull();
        await GetfdAsync("");
        await ClosefdAsync("");
    }

    [Fact]
    public async Task Without_a_monitor_context_there_is_nothing_to_get_or_close()
    {
        QmpRequestContext.Current = null;
        await Assert.ThrowsAsync<QmpErrorException>(() => GetfdAsync("x"));
        var e = await Assert.ThrowsAsync<QmpErrorException>(() => ClosefdAsync("x"));
        Assert.Equal("File descriptor named 'x' not found", e.Message);
    }

    [Fact]
    public void A_named_descriptor_resolves_once_for_a_migration_channel()
    {
        var fd = OpenNull();
        _store.Add("mig", fd);
        Assert.Same(fd, QmpRequestContext.ResolveFdParameter("mig"));
        Assert.Null(QmpRequestContext.ResolveFdParameter("mig"));
        fd.Dispose();
    }
}
