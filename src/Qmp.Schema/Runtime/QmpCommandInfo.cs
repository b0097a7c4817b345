namespace Qmp.Schema.Runtime;

/// <summary>What the schema says about a command, independent of any handler.</summary>
/// <param name="Name">Wire name.</param>
/// <param name="AllowOob">May run out of band (<c>exec-oob</c>).</param>
/// <param name="AllowPreconfig">Allowed before machine initialisation.</param>
/// <param name="Features">Schema features (<c>deprecated</c>, <c>unstable</c>, …).</param>
/// <param name="Generated">False for <c>'gen': false</c> commands, which the monitor implements itself.</param>
public sealed record QmpCommandInfo(string Name, bool AllowOob, bool AllowPreconfig, IReadOnlyList<string> Features, bool Generated);
