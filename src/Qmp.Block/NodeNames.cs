namespace Qmp.Block;

/// <summary>QEMU's node-name rules: a letter first, then letters, digits, '-', '.' and '_', at most 31 characters.</summary>
public static class NodeNames
{
    /// <summary>The longest node name QEMU accepts (its buffer is 32 bytes with the NUL).</summary>
    public const int MaxLength = 31;

    /// <summary>QEMU's error for <paramref name="name"/> as a user-given node name, or null when it is valid.</summary>
    public static string? Check(string name)
    {
        // QEMU's id_wellformed first, then the length (bdrv_assign_node_name).
        if (name.Length == 0 || !char.IsAsciiLetter(name[0]))
            return $"Invalid node-name: '{name}'";
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '.' or '_'))
                return $"Invalid node-name: '{name}'";
        }
        return name.Length > MaxLength ? "Node name too long" : null;
    }
}
