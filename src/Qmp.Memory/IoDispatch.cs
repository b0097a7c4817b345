namespace Qmp.Memory;

/// <summary>Calls a handler with the access sizes it implements.</summary>
internal static class IoDispatch
{
    public static ulong Read(IIoHandler handler, IoAccessRules rules, ulong offset, int size)
    {
        if (size >= rules.MinSize && size <= rules.MaxSize)
            return handler.Read(offset, size) & Mask(size);
        var accessSize = Math.Max(Math.Min(size, rules.MaxSize), rules.MinSize);
        var accessMask = Mask(accessSize);
        ulong value = 0;
        for (var i = 0; i < size; i += accessSize)
            value |= (handler.Read(offset + (ulong)i, accessSize) & accessMask) << (i * 8);
        return value & Mask(size);
    }

    public static void Write(IIoHandler handler, IoAccessRules rules, ulong offset, int size, ulong value)
    {
        value &= Mask(size);
        if (size >= rules.MinSize && size <= rules.MaxSize)
        {
            handler.Write(offset, size, value);
            return;
        }
        var accessSize = Math.Max(Math.Min(size, rules.MaxSize), rules.MinSize);
        var accessMask = Mask(accessSize);
        for (var i = 0; i < size; i += accessSize)
            handler.Write(offset + (ulong)i, accessSize, (value >> (i * 8)) & accessMask);
    }

    public static ulong Mask(int size) => size >= 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
}
