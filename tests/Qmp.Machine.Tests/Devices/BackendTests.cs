using System.Text;
using Qmp.Machine.Chardevs.Backends;

namespace Qmp.Machine.Tests.Devices;

public sealed class BackendTests
{
    [Fact]
    public void Ring_buffer_size_must_be_a_power_of_two()
    {
        var e = Assert.Throws<ArgumentException>(() => new RingBufferBackend(100));
        Assert.Contains("power of two", e.Message);
    }

    [Fact]
    public void Ring_buffer_keeps_the_newest_bytes()
    {
        var ring = new RingBufferBackend(8);
        ring.Write("0123456789"u8);
        Assert.Equal(8, ring.Count);
        Assert.Equal("23456789", ring.Read(100));
        Assert.Equal(0, ring.Count);
    }

    [Fact]
    public void Ring_buffer_read_drains_only_what_was_asked()
    {
        var ring = new RingBufferBackend(16);
        ring.Write("hello"u8);
        Assert.Equal("he", ring.Read(2));
        ring.Write(" world"u8);
        Assert.Equal("llo world", ring.Read(64));
        Assert.Empty(ring.ReadBytes(4));
    }

    [Fact]
    public void Ring_buffer_text_replaces_invalid_utf8()
    {
        var ring = new RingBufferBackend(16);
        ring.Write([0x61, 0xFF, 0x62]);
        Assert.Equal("a\uFFFDb", ring.Read(3));
    }

    [Fact]
    public void Stream_backend_writes_everything_in_order()
    {
        using var stream = new MemoryStream();
        using (var backend = new StreamBackend(stream, capacity: 4096))
        {
            for (var i = 0; i < 10; i++)
                backend.Write(Encoding.ASCII.GetBytes($"line {i}\n"));
            backend.Flush();
            Assert.Equal(0, backend.DroppedBytes);
        }
        var expected = string.Concat(Enumerable.Range(0, 10).Select(i => $"line {i}\n"));
        Assert.Equal(expected, Encoding.ASCII.GetString(stream.ToArray()));
    }

    [Fact]
    public void Stream_backend_drops_instead_of_blocking_when_the_reader_stalls()
    {
        using var stalled = new StalledStream();
        var backend = new StreamBackend(stalled, capacity: 16);
        var data = new byte[16];
        for (var i = 0; i < 3; i++)
            backend.Write(data);
        // The writer holds at most one buffer's worth; the buffer holds another.
        Assert.True(backend.DroppedBytes >= 16);
        stalled.Release();
        backend.Dispose();
        Assert.Equal(48, stalled.Written + backend.DroppedBytes);
    }

    [Fact]
    public void Stream_backend_stops_after_the_stream_fails()
    {
        var stream = new MemoryStream();
        var backend = new StreamBackend(stream, capacity: 64);
        stream.Dispose();
        backend.Write("x"u8);
        backend.Flush();
        Assert.NotNull(backend.Error);
        backend.Write("y"u8);
        backend.Dispose();
        Assert.Equal(2, backend.DroppedBytes);
    }
}
