namespace Qmp.Block;

/// <summary>detect-zeroes: turn writes of all-zero buffers into write-zeroes requests (and, with unmap, deallocation).</summary>
public enum DetectZeroes
{
    /// <summary>off: writes are written as they are.</summary>
    Off,

    /// <summary>on: zero buffers become write-zeroes.</summary>
    On,

    /// <summary>unmap: zero buffers become write-zeroes that may deallocate (when discard=unmap).</summary>
    Unmap,
}
