using Qmp.Schema;

namespace Qmp.Commands;

/// <summary>char.json: query-chardev.</summary>
public sealed class CharCommands(Machine.Machine machine) : ICharCommands
{
    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<ChardevInfo>> QueryChardevAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<ChardevInfo> list = machine.Chardevs.List()
            .Select(c => new ChardevInfo { Label = c.Label, Filename = c.Filename, FrontendOpen = c.FrontendOpen })
            .ToList();
        return ValueTask.FromResult(list);
    }
}
