using System.Text.Json.Nodes;
using Qmp.Migration;
using Qmp.Migration.Channels;
using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands.Tests;

/// <summary>
/// migrate's <c>channels</c> argument as QEMU 8.2+ reads it: the socket branch is a SocketAddress union nested in the
/// MigrationAddress union, so its own <c>type</c> picks inet, unix or fd members from the same object.
/// </summary>
public sealed class MigrationChannelTests : IDisposable
{
    private readonly InMemoryFdStore _store = new();

    public MigrationChannelTests() => QmpRequestContext.Current = new QmpRequestContext(_store, () => null);

    public void Dispose() => QmpRequestContext.Current = null;

    private static Migration.Channels.MigrationAddress Address(string addr)
    {
        var arguments = MigrateArguments.FromJson(JsonNode.Parse($$"""{"channels":[{"channel-type":"main","addr":{{addr}}}]}"""));
        return MigrationCommands.Address(arguments.Uri, arguments.Channels);
    }

    [Fact]
    public void Socket_channels_read_inet_and_unix_members_beside_the_transport()
    {
        Assert.Equal(SocketMigrationAddress.Inet("127.0.0.1", "4444"), Address("""{"transport":"socket","type":"inet","host":"127.0.0.1","port":"4444"}"""));
        Assert.Equal(SocketMigrationAddress.Unix("/tmp/m.sock"), Address("""{"transport":"socket","type":"unix","path":"/tmp/m.sock"}"""));
    }

    [Fact]
    public void Inet_options_reach_the_address_from_channels_and_from_the_uri()
    {
        var expected = SocketMigrationAddress.Inet("127.0.0.1", "4444", new Machine.Sockets.InetSocketOptions { To = 4450, Ipv4 = true, KeepAlive = true });
        Assert.Equal(expected, Address("""{"transport":"socket","type":"inet","host":"127.0.0.1","port":"4444","to":4450,"ipv4":true,"keep-alive":true}"""));
        Assert.Equal(expected, MigrationCommands.Address("tcp:127.0.0.1:4444,to=4450,ipv4,keep-alive=on", null));
        var ipv6Off = Assert.IsType<SocketMigrationAddress>(MigrationCommands.Address("tcp:[::1]:4444,ipv6=off,numeric", null));
        Assert.Equal(("::1", false, (int?)null), (ipv6Off.Host, ipv6Off.Options.Ipv6, ipv6Off.Options.To));
        var e = Assert.Throws<MigrationException>(() => MigrationCommands.Address("tcp:h:1,ipv4=yes", null));
        Assert.Equal("error parsing 'ipv4' flag '=yes'", e.Message);
        e = Assert.Throws<MigrationException>(() => MigrationCommands.Address("tcp:h:1,to=x", null));
        Assert.Equal("error parsing to= argument", e.Message);
        e = Assert.Throws<MigrationException>(() => MigrationCommands.Address("tcp:h:1,to=70000", null));
        Assert.Equal("error parsing to= argument", e.Message);
    }

    [Fact]
    public void Socket_channels_refuse_members_of_another_socket_type()
    {
        var e = Assert.Throws<QmpErrorException>(() => Address("""{"transport":"socket","type":"inet","host":"h","port":"1","path":"/x"}"""));
        Assert.Equal("Parameter 'channels[0].addr.path' is unexpected", e.Message);
        e = Assert.Throws<QmpErrorException>(() => Address("""{"transport":"socket","type":"unix"}"""));
        Assert.Equal("Parameter 'channels[0].addr.path' is missing", e.Message);
        e = Assert.Throws<QmpErrorException>(() => Address("""{"transport":"socket","path":"/x"}"""));
        Assert.Equal("Parameter 'channels[0].addr.type' is missing", e.Message);
    }

    [Fact]
    public void An_fd_socket_channel_is_the_getfd_descriptor_as_an_fd_uri_is()
    {
        var handle = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Write);
        _store.Add("mig", handle);
        var address = Assert.IsType<FdMigrationAddress>(Address("""{"transport":"socket","type":"fd","str":"mig"}"""));
        Assert.Equal(("mig", handle), (address.Name, address.Handle));
        Assert.Null(_store.Peek("mig"));
        handle.Dispose();

        var e = Assert.Throws<MigrationException>(() => Address("""{"transport":"socket","type":"fd","str":"mig"}"""));
        Assert.Equal("File descriptor named 'mig' has not been found", e.Message);
    }
}
