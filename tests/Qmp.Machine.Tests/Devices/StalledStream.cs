namespace Qmp.Machine.Tests.Devices;

/// <summary>A stream whose writes block until released, as a reader that stopped reading a pipe.</summary>
internal sealed class StalledStream : Stream
{
    private readonly ManualResetEventSlim _released = new();
    private long _written;

    public long Written => Interlocked.Read(ref _written);

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public void Release() => _released.Set();

    public override void Write(byte[] buffer, int offset, int count)
    {
        _released.Wait();
        Interlocked.Add(ref _written, count);
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _released.Set();
            _released.Dispose();
        }
        base.Dispose(disposing);
    }
}
