namespace Qmp.SchemaGen.Parsing;

/// <summary>
/// One top-level expression: an ordered map whose values are strings, booleans, lists and nested
/// maps (<see cref="QapiObject"/>), with the doc comment that preceded it.
/// </summary>
internal sealed record QapiExpression(QapiObject Body, QapiSourceInfo Info, QapiDoc? Doc);
