namespace Qmp.Functional.Tests;

/// <summary>
/// Checks guest memory left by the migration guest (tools/guests/migration) for the single-step
/// invariant QEMU's migration tests check on a destination (<c>check_guests_ram()</c>).
/// </summary>
/// <remarks>
/// The guest increments the first byte of every page of [start, end) in ascending order, pass after
/// pass. Stopped at any instant, walking the pages upwards, every page's byte therefore equals the
/// previous page's, except at one place, where the incrementer was: there it is exactly one less
/// (mod 256; it is about to be incremented). Wrap-around needs no special case: the first page
/// holds the newer value and the step down happens once, further on. A second step, a step of
/// another size or a step up means a page that migration lost or delivered stale. Like QEMU, the
/// walk compares each page with the one before it, so one stale page costs two discontinuities
/// (down into it, up out of it) and both are counted.
/// </remarks>
internal static class MigrationGuestCheck
{
    /// <summary>The guest's page size (it touches one byte per 4 KiB).</summary>
    public const int PageSize = 4096;

    /// <summary>The guest's defaults: pages from 2 MiB up to 100 MiB.</summary>
    public const long DefaultStart = 2L << 20;

    /// <summary>The end (exclusive) of the guest's default region.</summary>
    public const long DefaultEnd = 100L << 20;

    /// <summary>What the walk found.</summary>
    /// <param name="Pages">Pages looked at.</param>
    /// <param name="FirstByte">The first page's byte.</param>
    /// <param name="Edge">Guest-physical address of the page where the allowed step down was, if any.</param>
    /// <param name="Bad">Discontinuities other than the one allowed step.</param>
    /// <param name="Problems">The first few bad pages, described.</param>
    public sealed record Result(int Pages, byte FirstByte, long? Edge, int Bad, IReadOnlyList<string> Problems)
    {
        /// <summary>True when the memory satisfies the invariant.</summary>
        public bool Ok => Bad == 0 && Pages > 0;

        /// <inheritdoc/>
        public override string ToString() =>
            $"checked {Pages} pages, first byte 0x{FirstByte:x2}, edge {(Edge is { } e ? $"0x{e:x}" : "none")}, bad {Bad}"
            + string.Concat(Problems.Select(p => "\n  " + p));
    }

    /// <summary>
    /// Walks [<paramref name="start"/>, <paramref name="end"/>) of a memory dump whose first byte is
    /// guest-physical address <paramref name="dumpBase"/> (a <c>pmemsave</c> from 0 has base 0).
    /// </summary>
    public static Result Check(ReadOnlySpan<byte> dump, long dumpBase = 0, long start = DefaultStart, long end = DefaultEnd)
    {
        if (start < dumpBase || end - dumpBase > dump.Length || start % PageSize != 0 || end <= start)
            throw new ArgumentException($"region 0x{start:x}-0x{end:x} is not page aligned inside the dump 0x{dumpBase:x}+0x{dump.Length:x}");
        var first = dump[(int)(start - dumpBase)];
        var last = first;
        long? edge = null;
        var bad = 0;
        var problems = new List<string>();
        var pages = 1;
        for (var address = start + PageSize; address < end; address += PageSize, pages++)
        {
            var b = dump[(int)(address - dumpBase)];
            if (b != last)
            {
                if ((byte)(b + 1) == last && edge is null)
                {
                    edge = address;
                }
                else
                {
                    bad++;
                    if (problems.Count < 10)
                        problems.Add($"0x{address:x}: 0x{b:x2} after 0x{last:x2} (edge {(edge is { } e ? $"at 0x{e:x}" : "not yet seen")})");
                }
            }
            last = b;
        }
        return new Result(pages, first, edge, bad, problems);
    }

    /// <summary>Reads a dump file written by <c>pmemsave</c> and checks it.</summary>
    public static Result CheckFile(string path, long dumpBase = 0, long start = DefaultStart, long end = DefaultEnd) =>
        Check(File.ReadAllBytes(path), dumpBase, start, end);
}
