using System.Reflection;

namespace Qmp.Block.Tests.Core;

/// <summary>
/// Puts a test node into a <see cref="BlockGraph"/>: the graph opens only its own drivers from options, so
/// fault-injecting nodes are registered through its private Register(node, name), as an opened node would be.
/// </summary>
internal static class GraphInjection
{
    public static T Add<T>(BlockGraph graph, T node, string name, params BlockNode[] fileChildren)
        where T : BlockNode
    {
        foreach (var child in fileChildren)
            node.AddChild("file", child);
        var register = typeof(BlockGraph).GetMethod("Register", BindingFlags.NonPublic | BindingFlags.Instance, [typeof(BlockNode), typeof(string)]);
        if (register is null)
            Assert.Fail("BlockGraph.Register(BlockNode, string?) is gone: update GraphInjection to the graph's way of adding a node");
        register.Invoke(graph, [node, name]);
        return node;
    }
}
