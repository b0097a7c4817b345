using Qmp.Machine.Chardevs;

namespace Qmp.Machine.Tests.Devices;

/// <summary>A backend that keeps guest output and feeds host input as a well-behaved chardev does.</summary>
internal sealed class TestCharBackend : ICharBackend
{
    public List<byte> Output { get; } = [];

    public Action<ReadOnlySpan<byte>>? Received { get; set; }

    public Func<int>? CanReceive { get; set; }

    public void Write(ReadOnlySpan<byte> data) => Output.AddRange(data.ToArray());

    /// <summary>Delivers as much of <paramref name="data"/> as the frontend accepts; returns how much.</summary>
    public int Send(params byte[] data)
    {
        var n = Math.Min(CanReceive?.Invoke() ?? 0, data.Length);
        if (n > 0)
            Received?.Invoke(data.AsSpan(0, n));
        return n;
    }

    /// <summary>Delivers <paramref name="data"/> regardless of the frontend's space (a misbehaving backend).</summary>
    public void Force(params byte[] data) => Received?.Invoke(data);
}
