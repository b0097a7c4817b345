namespace Qmp.SchemaGen.Parsing;

/// <summary>A schema error, with QEMU's layout: location lines, then <c>: message</c>.</summary>
internal sealed class QapiException(QapiSourceInfo? info, string message, int? column = null)
    : Exception(info is null ? message : $"{info.Format(column)}: {message}")
{
    public string Bare { get; } = message;
}
