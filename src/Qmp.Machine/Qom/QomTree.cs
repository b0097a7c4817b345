namespace Qmp.Machine.Qom;

/// <summary>Path resolution over a QOM tree, with QEMU's absolute and partial paths.</summary>
public sealed class QomTree(QomObject root)
{
    /// <summary>The root object (<c>/</c>).</summary>
    public QomObject Root { get; } = root;

    /// <summary>
    /// Resolves an absolute path (<c>/machine/peripheral/x</c>) or a partial one (<c>x</c>,
    /// <c>peripheral/x</c>): a partial path must match the end of exactly one object's path.
    /// </summary>
    /// <param name="path">The path.</param>
    /// <param name="ambiguous">Set when a partial path matched more than one object.</param>
    public QomObject? Resolve(string path, out bool ambiguous)
    {
        ambiguous = false;
        if (path.StartsWith('/'))
        {
            var current = Root;
            foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                current = current.Child(part);
                if (current is null)
                    return null;
            }
            return current;
        }
        var suffix = "/" + path.TrimEnd('/');
        var matches = Root.Descendants().Where(o => o.Path.EndsWith(suffix, StringComparison.Ordinal)).Take(2).ToList();
        ambiguous = matches.Count > 1;
        return matches.Count == 1 ? matches[0] : null;
    }
}
