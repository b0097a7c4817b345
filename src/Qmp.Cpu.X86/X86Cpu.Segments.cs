using System.Runtime.CompilerServices;

namespace Qmp.Cpu.X86;

public sealed partial class X86Cpu
{
    /// <summary>The linear address of <paramref name="offset"/> in <paramref name="seg"/>, checked against its limit and type.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint Linear(int seg, uint offset, int size, bool write)
    {
        ref var s = ref Seg(seg);
        if (!s.Flat)
            CheckSegment(ref s, seg, offset, size, write);
        return s.Base + offset;
    }

    private void CheckSegment(ref SegmentCache s, int seg, uint offset, int size, bool write)
    {
        var vector = seg == SegmentRegister.SS ? CpuException.SS : CpuException.GP;
        if (ProtectedMode && !Vm86)
        {
            if (!s.IsPresent || (s.Attributes & SegmentCache.System) == 0)
                throw Fault(vector, 0);
            if (write ? !s.IsWritableData : !s.IsReadable)
                throw Fault(vector, 0);
        }
        var last = offset + (uint)size - 1;
        if (s.IsExpandDown)
        {
            var upper = s.Is32 ? 0xFFFFFFFFu : 0xFFFFu;
            if (offset <= s.Limit || last > upper || last < offset)
                throw Fault(vector, 0);
        }
        else if (last > s.Limit || last < offset)
            throw Fault(vector, 0);
    }

    /// <summary>A fault to throw; the vector decides whether an error code is pushed.</summary>
    internal static GuestFault Fault(int vector, uint errorCode = 0) =>
        new(vector, errorCode, CpuException.HasErrorCode(vector));
}
