using Qmp.Block.Backends;

namespace Qmp.Block.Jobs;

/// <summary>What the jobs ask of a backing chain and its drive when they check their arguments.</summary>
internal static class BackingChain
{
    /// <summary>Whether <paramref name="node"/> is <paramref name="top"/> or one of the images below it.</summary>
    internal static bool Contains(BlockNode top, BlockNode node)
    {
        for (BlockNode? at = top; at is not null; at = at.Backing)
        {
            if (at == node)
                return true;
        }
        return false;
    }

    /// <summary>QEMU's bdrv_get_device_name: the name of the drive whose root the node is, else "".</summary>
    internal static string DeviceName(BlockNode node) =>
        node.Users.OfType<BlockBackend>().FirstOrDefault(b => b.Name.Length > 0 && b.Root == node)?.Name ?? "";
}
