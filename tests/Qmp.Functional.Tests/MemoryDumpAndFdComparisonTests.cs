using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Qmp.Client;
using Qmp.Monitor.Tests;

namespace Qmp.Functional.Tests;

/// <summary>
/// pmemsave, memsave, getfd and closefd sent to QEMU 7.2 and to qmpd: the replies must be the
/// same bytes, and descriptors passed with SCM_RIGHTS over the real unix socket must be kept,
/// replaced and closed the same way.
/// </summary>
public sealed class MemoryDumpAndFdComparisonTests
{
    private sealed class Pair(CapturedProcess qemu, CapturedProcess qmpd, string dir) : IAsyncDisposable
    {
        public CapturedProcess Qemu { get; } = qemu;

        public CapturedProcess Qmpd { get; } = qmpd;

        public string Dir { get; } = dir;

        public RawQmpConnection QemuConnection { get; private set; } = null!;

        public RawQmpConnection QmpdConnection { get; private set; } = null!;

        /// <summary>(Re)connects to both monitors and negotiates.</summary>
        public async Task ConnectAsync()
        {
            QemuConnection?.Dispose();
            QmpdConnection?.Dispose();
            QemuConnection = await ConnectOneAsync($"{Dir}/qemu.sock");
            QmpdConnection = await ConnectOneAsync($"{Dir}/qmpd.sock");
        }

        public async ValueTask DisposeAsync()
        {
            QemuConnection?.Dispose();
            QmpdConnection?.Dispose();
            await Qemu.DisposeAsync();
            await Qmpd.DisposeAsync();
            Directory.Delete(Dir, recursive: true);
        }
    }

    private static async Task<Pair> StartAsync(string[] qemuArgs, string[] qmpdArgs)
    {
        var qemu = Qmpd.FindTool("qemu-system-i386", "qemu-system-x86");
        var dir = Qmpd.TempDir();
        var reference = CapturedProcess.Start(qemu, [.. qemuArgs, "-qmp", $"unix:{dir}/qemu.sock,server=on,wait=off"], keepStdin: true);
        var qmpd = Qmpd.Start([.. qmpdArgs, "-qmp", $"unix:{dir}/qmpd.sock,server=on,wait=off"]);
        var pair = new Pair(reference, qmpd, dir);
        await pair.ConnectAsync();
        return pair;
    }

    private static async Task<RawQmpConnection> ConnectOneAsync(string path)
    {
        var connection = new RawQmpConnection(await Qmpd.ConnectUnixAsync(path));
        await connection.ReadLineAsync();
        await connection.SendAsync("""{"execute":"qmp_capabilities"}""");
        Assert.Equal("""{"return": {}}""", await connection.ReadLineAsync());
        return connection;
    }

    /// <summary>Sends the request (with descriptors, if any) to both and compares the replies.</summary>
    private static async Task SameReplyAsync(Pair pair, string request, params int[] fds)
    {
        foreach (var connection in new[] { pair.QemuConnection, pair.QmpdConnection })
        {
            if (fds.Length > 0)
                ScmRights.Send(connection.Socket, Encoding.UTF8.GetBytes(request), fds);
            else
                await connection.SendAsync(request);
        }
        var expected = await pair.QemuConnection.ReadLineAsync();
        var actual = await pair.QmpdConnection.ReadLineAsync();
        Assert.True(expected == actual, $"request: {request}\nQEMU: {expected}\nqmpd: {actual}");
    }

    [Fact]
    public async Task Pmemsave_and_memsave_answer_like_QEMU()
    {
        string[] machine = ["-nodefaults", "-display", "none", "-m", "128", "-S"];
        await using var pair = await StartAsync(machine, machine);
        var dir = pair.Dir;
        string[] requests =
        [
            $$"""{"execute":"pmemsave","arguments":{"val":0,"size":4096,"filename":"{{dir}}/none/x"},"id":1}""",
            $$"""{"execute":"pmemsave","arguments":{"val":0,"size":4096,"filename":"{{dir}}"},"id":2}""",
            """{"execute":"pmemsave","arguments":{"val":0,"size":65536,"filename":"/dev/full"},"id":3}""",
            """{"execute":"pmemsave","arguments":{"val":0,"size":16},"id":4}""",
            $$"""{"execute":"pmemsave","arguments":{"val":"0","size":16,"filename":"{{dir}}/y"},"id":5}""",
            $$"""{"execute":"pmemsave","arguments":{"val":268435456,"size":8192,"filename":"{{dir}}/beyond"},"id":6}""",
            $$"""{"execute":"pmemsave","arguments":{"val":0,"size":0,"filename":"{{dir}}/empty"},"id":7}""",
            $$"""{"execute":"memsave","arguments":{"val":0,"size":16,"filename":"{{dir}}/none/x","cpu-index":5},"id":8}""",
            $$"""{"execute":"memsave","arguments":{"val":0,"size":16,"filename":"{{dir}}/m","cpu-index":-1},"id":9}""",
            $$"""{"execute":"memsave","arguments":{"val":0,"size":16,"filename":"{{dir}}/none/x"},"id":10}""",
            $$"""{"execute":"memsave","arguments":{"val":268435456,"size":16,"filename":"{{dir}}/m"},"id":11}""",
            $$"""{"execute":"memsave","arguments":{"val":4294967296,"size":16,"filename":"{{dir}}/m"},"id":12}""",
            $$"""{"execute":"memsave","arguments":{"val":-4096,"size":16,"filename":"{{dir}}/m"},"id":13}""",
            $$"""{"execute":"memsave","arguments":{"val":4294967288,"size":16,"filename":"{{dir}}/m"},"id":14}""",
            $$"""{"execute":"memsave","arguments":{"val":134214728,"size":8192,"filename":"{{dir}}/m"},"id":15}""",
            $$"""{"execute":"memsave","arguments":{"val":1048576,"size":4096,"filename":"{{dir}}/m","cpu-index":0},"id":16}""",
            """{"execute":"memsave","arguments":{"val":0,"size":65536,"filename":"/dev/full"},"id":17}""",
        ];
        foreach (var request in requests)
            await SameReplyAsync(pair, request);
    }

    [Fact]
    public async Task A_failed_memsave_leaves_the_same_partial_file_as_QEMU()
    {
        string[] machine = ["-nodefaults", "-display", "none", "-m", "128", "-S"];
        await using var pair = await StartAsync(machine, machine);
        // 3000 bytes before the end of RAM: QEMU writes two whole 1 KiB steps, then fails.
        await pair.QemuConnection.SendAsync($$$"""{"execute":"memsave","arguments":{"val":134214728,"size":8192,"filename":"{{{pair.Dir}}}/qemu.bin"}}""");
        await pair.QmpdConnection.SendAsync($$$"""{"execute":"memsave","arguments":{"val":134214728,"size":8192,"filename":"{{{pair.Dir}}}/qmpd.bin"}}""");
        Assert.Equal(await pair.QemuConnection.ReadLineAsync(), await pair.QmpdConnection.ReadLineAsync());
        Assert.Equal(new FileInfo($"{pair.Dir}/qemu.bin").Length, new FileInfo($"{pair.Dir}/qmpd.bin").Length);
        Assert.Equal(2048, new FileInfo($"{pair.Dir}/qmpd.bin").Length);
    }

    [Fact]
    public async Task Getfd_and_closefd_keep_replace_and_close_descriptors_like_QEMU()
    {
        await using var pair = await StartAsync(["-M", "none", "-nodefaults", "-display", "none", "-S"], ["-nodefaults", "-display", "none", "-S"]);
        var (read, write) = Pipe();
        var pipe = new FileInfo($"/proc/self/fd/{read}").LinkTarget!;
        int Held() => Directory.GetFiles($"/proc/{pair.Qmpd.Process.Id}/fd").Count(f => new FileInfo(f).LinkTarget == pipe);

        await SameReplyAsync(pair, """{"execute":"getfd","arguments":{"fdname":"x"}}""");
        await SameReplyAsync(pair, """{"execute":"getfd","arguments":{"fdname":"x"},"id":1}""", read);
        Assert.Equal(1, Held());
        await SameReplyAsync(pair, """{"execute":"getfd","arguments":{"fdname":"x"},"id":2}""", write);
        Assert.Equal(1, Held()); // the read end was replaced by the write end: one left
        await SameReplyAsync(pair, """{"execute":"getfd","arguments":{"fdname":"1abc"},"id":3}""", read);
        Assert.Equal(1, Held());
        await SameReplyAsync(pair, """{"execute":"getfd","arguments":{"fdname":""},"id":4}""", read);
        await SameReplyAsync(pair, """{"execute":"closefd","arguments":{"fdname":""},"id":5}""");
        await SameReplyAsync(pair, """{"execute":"closefd","arguments":{"fdname":"nope"},"id":6}""");
        // A descriptor sent with another command waits for the next getfd.
        await SameReplyAsync(pair, """{"execute":"query-name","id":7}""", read);
        await SameReplyAsync(pair, """{"execute":"getfd","arguments":{"fdname":"y"},"id":8}""");
        // Of two descriptors sent together only the first is kept.
        await SameReplyAsync(pair, """{"execute":"getfd","arguments":{"fdname":"z"},"id":9}""", read, write);
        await SameReplyAsync(pair, """{"execute":"getfd","arguments":{"fdname":"x"},"id":10}""");
        await SameReplyAsync(pair, """{"execute":"getfd","id":11}""");
        await SameReplyAsync(pair, """{"execute":"closefd","arguments":{"fdname":"x"},"id":12}""");
        Assert.Equal(2, Held()); // y and z

        // The names belong to the monitor: they survive a reconnect.
        await pair.ConnectAsync();
        await SameReplyAsync(pair, """{"execute":"closefd","arguments":{"fdname":"z"},"id":13}""");
        await SameReplyAsync(pair, """{"execute":"closefd","arguments":{"fdname":"y"},"id":14}""");
        await SameReplyAsync(pair, """{"execute":"closefd","arguments":{"fdname":"y"},"id":15}""");
        Assert.Equal(0, Held());
        Close(read);
        Close(write);
    }

    private static (int Read, int Write) Pipe()
    {
        var fds = new int[2];
        Assert.Equal(0, PipeNative(fds));
        return (fds[0], fds[1]);
    }

    [DllImport("libc", EntryPoint = "pipe", SetLastError = true)]
    private static extern int PipeNative(int[] fds);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);
}
