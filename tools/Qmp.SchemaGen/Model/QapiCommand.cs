using Qmp.SchemaGen.Parsing;

namespace Qmp.SchemaGen.Model;

/// <summary>A command: argument type, return type and flags.</summary>
internal sealed class QapiCommand(string name, QapiSourceInfo info, QapiDoc? doc, IReadOnlyList<string> features)
    : QapiEntity(name, info, doc, features)
{
    /// <summary>The arguments; null when the command takes none.</summary>
    public QapiObjectType? ArgType { get; set; }

    public QapiType? RetType { get; set; }

    /// <summary>False when the handler is written by hand ('gen': false).</summary>
    public bool Gen { get; init; } = true;

    public bool Boxed { get; init; }

    public bool AllowOob { get; init; }

    public bool AllowPreconfig { get; init; }

    public bool SuccessResponse { get; init; } = true;

    public override string Describe() => $"command '{Name}'";
}
