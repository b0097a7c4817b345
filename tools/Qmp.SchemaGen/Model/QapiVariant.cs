namespace Qmp.SchemaGen.Model;

/// <summary>A union branch: the tag value and the struct whose members it adds.</summary>
internal sealed record QapiVariant(string Case, QapiObjectType Type);
