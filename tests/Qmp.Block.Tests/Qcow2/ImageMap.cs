using System.Globalization;

namespace Qmp.Block.Tests.Qcow2;

/// <summary>Builds qemu-img map's view from our nodes' block status and compares two such views point by point.</summary>
internal static class ImageMap
{
    public static async Task<List<QemuTools.MapEntry>> OfAsync(BlockNode top)
    {
        var list = new List<QemuTools.MapEntry>();
        for (long offset = 0; offset < top.Length;)
        {
            var entry = await StatusAsync(top, offset, top.Length - offset, 0);
            list.Add(entry);
            offset += entry.Length;
        }
        return list;
    }

    private static async Task<QemuTools.MapEntry> StatusAsync(BlockNode node, long offset, long length, int depth)
    {
        var status = await node.GetStatusAsync(offset, length);
        Assert.True(status.Length > 0 && status.Length <= length, $"status length {status.Length} for a request of {length}");
        if ((status.Flags & BlockStatusFlags.Allocated) != 0)
        {
            return new QemuTools.MapEntry(
                offset,
                status.Length,
                depth,
                true,
                (status.Flags & BlockStatusFlags.Zero) != 0,
                (status.Flags & BlockStatusFlags.Data) != 0,
                (status.Flags & BlockStatusFlags.OffsetValid) != 0 ? status.HostOffset : null);
        }
        if (node.Backing is { } backing)
        {
            var below = await StatusAsync(backing, offset, status.Length, depth + 1);
            return below;
        }
        return new QemuTools.MapEntry(offset, status.Length, depth, false, true, false, null);
    }

    /// <summary>Asserts both maps say the same at every boundary either of them has.</summary>
    public static void AssertEquivalent(List<QemuTools.MapEntry> expected, List<QemuTools.MapEntry> actual, bool compareBacking = true)
    {
        Assert.Equal(expected.Sum(e => e.Length), actual.Sum(e => e.Length));
        var points = expected.Select(e => e.Start).Concat(actual.Select(e => e.Start)).Distinct().Order().ToList();
        foreach (var point in points)
        {
            var e = Find(expected, point);
            var a = Find(actual, point);
            var where = point.ToString(CultureInfo.InvariantCulture);
            Assert.True(e.Depth == a.Depth, $"depth at {where}: qemu {e} ours {a}");
            if (e.Depth > 0 && !compareBacking)
                continue;
            Assert.True(e.Present == a.Present && e.Zero == a.Zero && e.Data == a.Data, $"flags at {where}: qemu {e} ours {a}");
            long? eo = e.Offset is { } x ? x + (point - e.Start) : null;
            long? ao = a.Offset is { } y ? y + (point - a.Start) : null;
            Assert.True(eo == ao, $"offset at {where}: qemu {e} ours {a}");
        }
    }

    private static QemuTools.MapEntry Find(List<QemuTools.MapEntry> map, long point) =>
        map.First(m => m.Start <= point && point < m.Start + m.Length);
}
