namespace Qmp.Schema.Json;

/// <summary>A lexed token and its raw bytes (string tokens keep their quotes and escapes).</summary>
internal readonly record struct JsonToken(JsonTokenType Type, byte[] Text);
