namespace Qmp.Schema.Runtime;

/// <summary>The commands of one machine: schema facts plus the handlers that implement them.</summary>
public sealed class QmpCommandTable
{
    private readonly Dictionary<string, QmpCommandInfo> _infos;
    private readonly Dictionary<string, QmpCommandHandler> _handlers;

    /// <summary>Creates a table; every generated command must have a handler.</summary>
    public QmpCommandTable(IReadOnlyList<QmpCommandInfo> commands, IReadOnlyDictionary<string, QmpCommandHandler> handlers)
    {
        Commands = commands;
        _infos = commands.ToDictionary(c => c.Name, StringComparer.Ordinal);
        _handlers = new Dictionary<string, QmpCommandHandler>(handlers, StringComparer.Ordinal);
        var missing = commands.Where(c => c.Generated && !_handlers.ContainsKey(c.Name)).Select(c => c.Name).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"No handler for: {string.Join(", ", missing)}", nameof(handlers));
    }

    /// <summary>All commands in registration (schema) order.</summary>
    public IReadOnlyList<QmpCommandInfo> Commands { get; }

    /// <summary>The command named <paramref name="name"/>, if the schema has it.</summary>
    public QmpCommandInfo? Find(string name) => _infos.GetValueOrDefault(name);

    /// <summary>
    /// Binds the hand-written handler of a command the schema declares with <c>'gen': false</c> (its arguments
    /// are open-ended, like device_add's driver properties).
    /// </summary>
    public void AddHandwritten(string name, QmpCommandHandler handler)
    {
        if (!_infos.TryGetValue(name, out var info) || info.Generated)
            throw new ArgumentException($"'{name}' is not a hand-written command of the schema", nameof(name));
        _handlers[name] = handler;
    }

    /// <summary>The handler of a command.</summary>
    public QmpCommandHandler? Handler(string name) => _handlers.GetValueOrDefault(name);
}
