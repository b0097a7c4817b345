namespace Qmp.Block.Qcow2;

/// <summary>Decoding of L1/L2 entries.</summary>
internal static class Qcow2Entry
{
    public static Qcow2ClusterKind Classify(ulong entry)
    {
        if ((entry & Qcow2Format.Compressed) != 0)
            return Qcow2ClusterKind.Compressed;
        var hasOffset = (entry & Qcow2Format.OffsetMask) != 0;
        if ((entry & Qcow2Format.ZeroFlag) != 0)
            return hasOffset ? Qcow2ClusterKind.ZeroAlloc : Qcow2ClusterKind.ZeroPlain;
        return hasOffset ? Qcow2ClusterKind.Normal : Qcow2ClusterKind.Unallocated;
    }

    public static long HostOffset(ulong entry) => (long)(entry & Qcow2Format.OffsetMask);

    public static bool IsCopied(ulong entry) => (entry & Qcow2Format.Copied) != 0;

    /// <summary>Whether a write may go straight into the entry's host cluster.</summary>
    public static bool IsWritableInPlace(ulong entry) => IsCopied(entry) && Classify(entry) == Qcow2ClusterKind.Normal;
}
