using System.Text;

namespace Qmp.Schema.Json;

/// <summary>
/// Splits a byte stream into JSON messages the way QEMU's json-streamer does: tokens are
/// collected until braces and brackets balance, then parsed; no newline is needed between
/// messages. Lexical errors, oversized messages and parse errors each produce one error message
/// and discard what had been collected.
/// </summary>
public sealed class JsonStreamParser
{
    /// <summary>QEMU's MAX_TOKEN_SIZE: 64 MiB of token text per message.</summary>
    public const long DefaultMaxTokenSize = 64L << 20;

    /// <summary>QEMU's MAX_TOKEN_COUNT: 2 Mi tokens per message.</summary>
    public const int DefaultMaxTokenCount = 2 << 20;

    /// <summary>QEMU's MAX_NESTING: combined depth of objects and arrays.</summary>
    public const int DefaultMaxNesting = 1024;

    private readonly JsonLexer _lexer;
    private readonly List<JsonToken> _tokens = [];
    private readonly List<JsonMessage> _ready = [];
    private readonly long _maxTokenSize;
    private readonly int _maxTokenCount;
    private readonly int _maxNesting;
    private long _tokenSize;
    private int _braces;
    private int _brackets;

    /// <summary>Creates a parser with QEMU's limits unless told otherwise.</summary>
    public JsonStreamParser(long maxTokenSize = DefaultMaxTokenSize, int maxTokenCount = DefaultMaxTokenCount, int maxNesting = DefaultMaxNesting)
    {
        _maxTokenSize = maxTokenSize;
        _maxTokenCount = maxTokenCount;
        _maxNesting = maxNesting;
        _lexer = new JsonLexer(OnToken, maxTokenSize);
    }

    /// <summary>Feeds bytes; returns the messages they completed, in order.</summary>
    public IReadOnlyList<JsonMessage> Feed(ReadOnlySpan<byte> data)
    {
        _ready.Clear();
        _lexer.Feed(data);
        return _ready.Count == 0 ? [] : [.. _ready];
    }

    /// <summary>End of input: completes a trailing number or keyword, reports an unfinished message.</summary>
    public IReadOnlyList<JsonMessage> Flush()
    {
        _ready.Clear();
        _lexer.Flush();
        if (_tokens.Count > 0)
            Emit(JsonParser.Parse(_tokens));
        return [.. _ready];
    }

    private void OnToken(JsonToken token)
    {
        switch (token.Type)
        {
            case JsonTokenType.LeftCurly:
                _braces++;
                break;
            case JsonTokenType.RightCurly:
                _braces--;
                break;
            case JsonTokenType.LeftSquare:
                _brackets++;
                break;
            case JsonTokenType.RightSquare:
                _brackets--;
                break;
            case JsonTokenType.Error:
                Emit(new JsonMessage(null, $"JSON parse error, stray '{ErrorText(token.Text)}'"));
                return;
        }

        if (_tokenSize + token.Text.Length + 1 > _maxTokenSize)
        {
            Emit(new JsonMessage(null, "JSON token size limit exceeded"));
            return;
        }
        if (_tokens.Count + 1 > _maxTokenCount)
        {
            Emit(new JsonMessage(null, "JSON token count limit exceeded"));
            return;
        }
        if (_braces + _brackets > _maxNesting)
        {
            Emit(new JsonMessage(null, "JSON nesting depth limit exceeded"));
            return;
        }

        _tokens.Add(token);
        _tokenSize += token.Text.Length;
        // QEMU 7.2 tests the bracket count twice here and never the brace count, so "[1}" waits
        // forever; checking both is the intended rule.
        if ((_braces > 0 || _brackets > 0) && _braces >= 0 && _brackets >= 0)
            return;
        Emit(JsonParser.Parse(_tokens));
    }

    private void Emit(JsonMessage message)
    {
        _braces = 0;
        _brackets = 0;
        _tokens.Clear();
        _tokenSize = 0;
        _ready.Add(message);
    }

    /// <summary>The offending text as QEMU prints it: a C string, so it ends at the first NUL.</summary>
    private static string ErrorText(byte[] text)
    {
        var end = Array.IndexOf(text, (byte)0);
        return Encoding.UTF8.GetString(text, 0, end < 0 ? text.Length : end);
    }
}
