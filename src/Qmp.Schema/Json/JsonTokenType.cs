namespace Qmp.Schema.Json;

/// <summary>Token kinds of QEMU's JSON lexer.</summary>
internal enum JsonTokenType
{
    LeftCurly,
    RightCurly,
    LeftSquare,
    RightSquare,
    Colon,
    Comma,
    Integer,
    Float,
    Keyword,
    String,
    Error,

    /// <summary>A token longer than the size limit, cut off by the lexer.</summary>
    Oversized,
}
