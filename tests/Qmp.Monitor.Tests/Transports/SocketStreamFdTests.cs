using System.Net.Sockets;
using System.Text;
using Qmp.Monitor.Transports;

namespace Qmp.Monitor.Tests.Transports;

/// <summary>Reading a unix socket with descriptors attached (SCM_RIGHTS), as getfd needs.</summary>
public sealed class SocketStreamFdTests : IAsyncLifetime
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"qmpd-sfd-{Guid.NewGuid():N}.sock");
    private Socket _client = null!;
    private SocketStream _server = null!;

    public async Task InitializeAsync()
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(_path));
        listener.Listen(1);
        _client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await _client.ConnectAsync(new UnixDomainSocketEndPoint(_path));
        _server = new SocketStream(await listener.AcceptAsync());
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
        File.Delete(_path);
    }

    private static (int Read, int Write) Pipe()
    {
        var fds = new int[2];
        Assert.Equal(0, PipeNative(fds));
        return (fds[0], fds[1]);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "pipe", SetLastError = true)]
    private static extern int PipeNative(int[] fds);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);

    private async Task<string> ReadAsync(int expected)
    {
        var buffer = new byte[64];
        var text = new StringBuilder();
        while (text.Length < expected)
        {
            var n = await Task.Run(() => _server.Read(buffer)).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.NotEqual(0, n);
            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
        return text.ToString();
    }

    [Fact]
    public async Task Plain_data_reads_through_and_no_descriptor_is_waiting()
    {
        var read = Task.Run(() => ReadAsync(5));
        await Task.Delay(50);
        await _client.SendAsync(Encoding.ASCII.GetBytes("hello"));
        Assert.Equal("hello", await read);
        Assert.Null(_server.TakeReceivedFd());
    }

    [Fact]
    public async Task A_descriptor_sent_with_data_can_be_taken_once_and_works()
    {
        var (r, w) = Pipe();
        ScmRights.Send(_client, Encoding.ASCII.GetBytes("{}"), r);
        Close(r);
        Assert.Equal("{}", await ReadAsync(2));
        using var received = _server.TakeReceivedFd();
        Assert.NotNull(received);
        Assert.Null(_server.TakeReceivedFd());
        // The received descriptor is the pipe's read end: what goes in at w comes out of it.
        using (var writer = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(w, ownsHandle: true), FileAccess.Write, 1))
            writer.Write("x"u8);
        using var reader = new FileStream(received, FileAccess.Read, 1);
        Assert.Equal((int)'x', reader.ReadByte());
    }

    [Fact]
    public async Task Of_several_descriptors_the_first_is_taken_and_the_rest_closed()
    {
        var (r, w) = Pipe();
        ScmRights.Send(_client, "a"u8.ToArray(), r, w);
        Close(r);
        Close(w);
        await ReadAsync(1);
        using var first = _server.TakeReceivedFd();
        Assert.NotNull(first);
        Assert.Null(_server.TakeReceivedFd());
    }

    [Fact]
    public async Task A_later_batch_replaces_one_not_taken()
    {
        var (r1, w1) = Pipe();
        var (r2, w2) = Pipe();
        ScmRights.Send(_client, "a"u8.ToArray(), r1);
        await ReadAsync(1);
        ScmRights.Send(_client, "b"u8.ToArray(), r2);
        await ReadAsync(1);
        Close(r1);
        Close(r2);
        using var taken = _server.TakeReceivedFd();
        // The first batch's descriptor was closed: its pipe has no reader left, so writes fail.
        Assert.Equal(-1, Write(w1));
        Assert.Equal(1, Write(w2));
        Close(w1);
        Close(w2);
    }

    [Fact]
    public async Task End_of_stream_reads_zero()
    {
        _client.Shutdown(SocketShutdown.Send);
        var n = await Task.Run(() => _server.Read(new byte[16])).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, n);
    }

    private static int Write(int fd) => (int)WriteNative(fd, [1], 1);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "write", SetLastError = true)]
    private static extern nint WriteNative(int fd, byte[] buffer, nint count);
}
