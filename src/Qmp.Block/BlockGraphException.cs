namespace Qmp.Block;

/// <summary>A graph operation was refused (a bad name, a node in use, a missing reference); the message is QEMU's text.</summary>
public sealed class BlockGraphException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BlockGraphException(string message)
        : base(message)
    {
    }
}
