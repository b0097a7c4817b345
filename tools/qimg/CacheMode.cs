namespace Qmp.Img;

/// <summary>qemu-img's -t/-T cache modes: whether I/O bypasses the host page cache and whether flushes happen.</summary>
internal sealed record CacheMode(string Name, bool Direct, bool NoFlush)
{
    public static CacheMode Writeback { get; } = new("writeback", false, false);

    public static CacheMode Unsafe { get; } = new("unsafe", false, true);

    /// <summary>bdrv_parse_cache_mode: none/off, directsync, writeback, unsafe, writethrough.</summary>
    public static CacheMode Parse(string name) => name switch
    {
        "none" or "off" => new(name, true, false),
        "directsync" => new(name, true, false),
        "writeback" => Writeback,
        "unsafe" => Unsafe,
        "writethrough" => new(name, false, false),
        _ => throw new ImgException($"Invalid cache option: {name}"),
    };
}
