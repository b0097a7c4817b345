namespace Qmp.Schema.Json;

/// <summary>
/// A push lexer with QEMU's JSON token rules (json-lexer.c): single-quoted strings and the
/// <c>\'</c> escape are accepted, keywords are lower-case words checked later by the parser, and
/// any byte that cannot start or continue a token becomes an error token. After an error the lexer
/// skips input until a point where it is likely to be back in sync.
/// </summary>
internal sealed class JsonLexer
{
    private enum State
    {
        Start,
        String,
        StringEscape,
        Negative,
        Zero,
        Digits,
        FractionStart,
        Fraction,
        ExponentStart,
        ExponentSign,
        Exponent,
        Keyword,
        Recovery,
    }

    private readonly List<byte> _token = new(64);
    private State _state = State.Start;
    private readonly long _maxTokenSize;
    private byte _quote;

    private readonly Action<JsonToken> _emit;

    public JsonLexer(Action<JsonToken> emit, long maxTokenSize)
    {
        _emit = emit;
        _maxTokenSize = maxTokenSize;
    }

    public void Feed(ReadOnlySpan<byte> data)
    {
        foreach (var b in data)
        {
            Step(b);
            // An endless token is cut off like QEMU does: reported as oversized, then lexing
            // starts afresh (not in recovery).
            if (_token.Count > _maxTokenSize)
                EmitToken(JsonTokenType.Oversized);
        }
    }

    /// <summary>End of input: finish a number or keyword that needs no more bytes.</summary>
    public void Flush()
    {
        switch (_state)
        {
            case State.Zero or State.Digits:
                EmitToken(JsonTokenType.Integer);
                break;
            case State.Fraction or State.Exponent:
                EmitToken(JsonTokenType.Float);
                break;
            case State.Keyword:
                EmitToken(JsonTokenType.Keyword);
                break;
            case State.Start or State.Recovery:
                break;
            default:
                EmitToken(JsonTokenType.Error);
                break;
        }
        _state = State.Start;
    }

    private void Step(byte b)
    {
        while (true)
        {
            switch (_state)
            {
                case State.Start:
                    StepStart(b);
                    return;
                case State.String:
                    _token.Add(b);
                    if (b == _quote)
                        EmitToken(JsonTokenType.String);
                    else if (b == '\\')
                        _state = State.StringEscape;
                    else if (b < 0x20 || b >= 0xFE)
                        Fail();
                    return;
                case State.StringEscape:
                    // Which escapes are valid is the parser's call; the lexer only needs the
                    // escaped byte not to end the string.
                    _token.Add(b);
                    if (b < 0x20 || b >= 0xFE)
                        Fail();
                    else
                        _state = State.String;
                    return;
                case State.Negative:
                    if (b == '0')
                        Continue(b, State.Zero);
                    else if (b is >= (byte)'1' and <= (byte)'9')
                        Continue(b, State.Digits);
                    else
                        FailWith(b);
                    return;
                case State.Zero:
                case State.Digits:
                    if (IsDigit(b))
                    {
                        // A leading zero may not be followed by more digits.
                        if (_state == State.Zero)
                            FailWith(b);
                        else
                            _token.Add(b);
                        return;
                    }
                    if (b == '.')
                    {
                        Continue(b, State.FractionStart);
                        return;
                    }
                    if (b is (byte)'e' or (byte)'E')
                    {
                        Continue(b, State.ExponentStart);
                        return;
                    }
                    EmitToken(JsonTokenType.Integer);
                    continue; // the byte starts the next token
                case State.FractionStart:
                    if (IsDigit(b))
                        Continue(b, State.Fraction);
                    else
                        FailWith(b);
                    return;
                case State.Fraction:
                    if (IsDigit(b))
                    {
                        _token.Add(b);
                        return;
                    }
                    if (b is (byte)'e' or (byte)'E')
                    {
                        Continue(b, State.ExponentStart);
                        return;
                    }
                    EmitToken(JsonTokenType.Float);
                    continue;
                case State.ExponentStart:
                    if (b is (byte)'+' or (byte)'-')
                        Continue(b, State.ExponentSign);
                    else if (IsDigit(b))
                        Continue(b, State.Exponent);
                    else
                        FailWith(b);
                    return;
                case State.ExponentSign:
                    if (IsDigit(b))
                        Continue(b, State.Exponent);
                    else
                        FailWith(b);
                    return;
                case State.Exponent:
                    if (IsDigit(b))
                    {
                        _token.Add(b);
                        return;
                    }
                    EmitToken(JsonTokenType.Float);
                    continue;
                case State.Keyword:
                    if (b is >= (byte)'a' and <= (byte)'z')
                    {
                        _token.Add(b);
                        return;
                    }
                    EmitToken(JsonTokenType.Keyword);
                    continue;
                case State.Recovery:
                    if (!IsResyncPoint(b))
                        return;
                    _state = State.Start;
                    continue;
            }
        }
    }

    private void StepStart(byte b)
    {
        switch (b)
        {
            case (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n':
                return;
            case (byte)'{':
                Single(b, JsonTokenType.LeftCurly);
                return;
            case (byte)'}':
                Single(b, JsonTokenType.RightCurly);
                return;
            case (byte)'[':
                Single(b, JsonTokenType.LeftSquare);
                return;
            case (byte)']':
                Single(b, JsonTokenType.RightSquare);
                return;
            case (byte)':':
                Single(b, JsonTokenType.Colon);
                return;
            case (byte)',':
                Single(b, JsonTokenType.Comma);
                return;
            case (byte)'"' or (byte)'\'':
                _quote = b;
                Continue(b, State.String);
                return;
            case (byte)'-':
                Continue(b, State.Negative);
                return;
            case (byte)'0':
                Continue(b, State.Zero);
                return;
            case >= (byte)'1' and <= (byte)'9':
                Continue(b, State.Digits);
                return;
            case >= (byte)'a' and <= (byte)'z':
                Continue(b, State.Keyword);
                return;
            default:
                FailWith(b);
                return;
        }
    }

    /// <summary>
    /// Where recovery stops skipping (the byte is then lexed again): structural characters and
    /// line ends are likely message boundaries; other control characters and the bytes 0xFE/0xFF
    /// never occur in valid JSON, so clients send them on purpose to resynchronise (each such
    /// byte is itself reported as stray).
    /// </summary>
    private static bool IsResyncPoint(byte b) =>
        b is (byte)'{' or (byte)'}' or (byte)'[' or (byte)']' or (byte)':' or (byte)',' or 0xFE or 0xFF
        || (b < 0x20 && b != '\t');

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    private void Continue(byte b, State next)
    {
        _token.Add(b);
        _state = next;
    }

    private void Single(byte b, JsonTokenType type)
    {
        // Structural tokens are a third of all tokens; they share one array per byte.
        _state = State.Start;
        _emit(new JsonToken(type, _structural[b]));
    }

    private static readonly byte[][] _structural = Enumerable.Range(0, 128).Select(b => new[] { (byte)b }).ToArray();

    private void FailWith(byte b)
    {
        _token.Add(b);
        Fail();
    }

    private void Fail()
    {
        EmitToken(JsonTokenType.Error);
        _state = State.Recovery;
    }

    private void EmitToken(JsonTokenType type)
    {
        var text = _token.ToArray();
        _token.Clear();
        _state = State.Start;
        _emit(new JsonToken(type, text));
    }
}
