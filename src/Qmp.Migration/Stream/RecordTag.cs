namespace Qmp.Migration.Stream;

/// <summary>The first byte of every record after the header.</summary>
internal enum RecordTag : byte
{
    /// <summary>Machine configuration: type, RAM blocks, optional uuid.</summary>
    Config = 1,

    /// <summary>A run of guest pages of one RAM block.</summary>
    Ram = 2,

    /// <summary>One device's state.</summary>
    Section = 3,

    /// <summary>End of stream.</summary>
    End = 4,
}
