using System.Text;

namespace Qmp.SchemaGen.Parsing;

/// <summary>
/// Reads QAPI schema files (scripts/qapi/parser.py's language): JSON-like with single-quoted
/// strings, <c>#</c> comments, <c>##</c> doc blocks, includes and pragmas. Errors carry QEMU's
/// texts and <c>file:line:col</c> positions.
/// </summary>
internal sealed class QapiParser
{
    private readonly string _file;
    private readonly string _src;
    private readonly QapiSourceInfo? _includedFrom;
    private readonly HashSet<string> _seenFiles;
    private readonly List<QapiExpression> _expressions;
    private readonly QapiPragmas _pragmas;
    private int _cursor;
    private int _line = 1;
    private int _lineStart;
    private char _tok;
    private object? _val;
    private int _tokLine;
    private int _tokColumn;
    private QapiDoc? _pendingDoc;

    private QapiParser(string path, string displayName, QapiSourceInfo? includedFrom, HashSet<string> seenFiles,
        List<QapiExpression> expressions, QapiPragmas pragmas)
    {
        _file = displayName;
        _src = File.ReadAllText(path);
        _includedFrom = includedFrom;
        _seenFiles = seenFiles;
        _expressions = expressions;
        _pragmas = pragmas;
        Path = path;
    }

    private string Path { get; }

    /// <summary>Parses <paramref name="path"/> and everything it includes, in order.</summary>
    public static (List<QapiExpression> Expressions, QapiPragmas Pragmas) ParseFile(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var expressions = new List<QapiExpression>();
        var pragmas = new QapiPragmas();
        var parser = new QapiParser(full, System.IO.Path.GetFileName(path), null, [full], expressions, pragmas);
        parser.ParseAll();
        return (expressions, pragmas);
    }

    private QapiSourceInfo Info(int line) => new(_file, line, _includedFrom);

    private QapiException Error(string message) => new(Info(_tokLine), message, _tokColumn);

    private void ParseAll()
    {
        Accept();
        while (_tok != '\0')
        {
            var info = Info(_tokLine);
            var doc = _pendingDoc;
            _pendingDoc = null;
            var value = GetExpression(false);
            if (value is not QapiObject expr)
                throw new QapiException(info, "top-level expression must be an object");
            if (expr.TryGetValue("include", out var include))
            {
                if (expr.Count != 1)
                    throw new QapiException(info, "invalid 'include' directive");
                if (include is not string name)
                    throw new QapiException(info, "value of 'include' must be a string");
                Include(name, info);
            }
            else if (expr.TryGetValue("pragma", out var pragma))
            {
                if (expr.Count != 1)
                    throw new QapiException(info, "invalid 'pragma' directive");
                if (pragma is not QapiObject pragmaObject)
                    throw new QapiException(info, "value of 'pragma' must be an object");
                _pragmas.Apply(pragmaObject, info);
            }
            else
            {
                _expressions.Add(new QapiExpression(expr, info, doc));
            }
        }
        if (_pendingDoc is not null)
            throw new QapiException(_pendingDoc.Info, "documentation comment is not followed by a definition");
    }

    private void Include(string name, QapiSourceInfo info)
    {
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, name));
        for (var parent = _includedFrom; parent is not null; parent = parent.IncludedFrom)
        {
            if (parent.File == name)
                throw new QapiException(info, $"inclusion loop for {name}");
        }
        if (!_seenFiles.Add(path))
            return;
        if (!File.Exists(path))
            throw new QapiException(info, $"can't read include file '{name}': No such file or directory");
        new QapiParser(path, name, info, _seenFiles, _expressions, _pragmas).ParseAll();
    }

    private object GetExpression(bool nested)
    {
        switch (_tok)
        {
            case '{':
                Accept();
                return GetMembers();
            case '[':
                Accept();
                return GetValues();
            case '\'' or 't' or 'f':
                var value = _val!;
                Accept();
                return value;
            default:
                throw Error(nested ? "expected '{', '[', string, or boolean" : "expected '{', '[', string, or boolean");
        }
    }

    private QapiObject GetMembers()
    {
        var result = new QapiObject();
        if (_tok == '}')
        {
            Accept();
            return result;
        }
        if (_tok != '\'')
            throw Error("expected string or '}'");
        while (true)
        {
            var key = (string)_val!;
            Accept();
            if (_tok != ':')
                throw Error("expected ':'");
            Accept();
            if (result.ContainsKey(key))
                throw Error($"duplicate key '{key}'");
            result[key] = GetExpression(true);
            if (_tok == '}')
            {
                Accept();
                return result;
            }
            if (_tok != ',')
                throw Error("expected ',' or '}'");
            Accept();
            if (_tok != '\'')
                throw Error("expected string");
        }
    }

    private List<object> GetValues()
    {
        var result = new List<object>();
        if (_tok == ']')
        {
            Accept();
            return result;
        }
        if (_tok is not ('{' or '[' or '\'' or 't' or 'f'))
            throw Error("expected '{', '[', ']', string, or boolean");
        while (true)
        {
            result.Add(GetExpression(true));
            if (_tok == ']')
            {
                Accept();
                return result;
            }
            if (_tok != ',')
                throw Error("expected ',' or ']'");
            Accept();
        }
    }

    /// <summary>Moves to the next token, collecting doc comments on the way.</summary>
    private void Accept()
    {
        while (true)
        {
            _tokLine = _line;
            _tokColumn = _cursor - _lineStart + 1;
            if (_cursor >= _src.Length)
            {
                _tok = '\0';
                return;
            }
            var c = _src[_cursor++];
            _val = null;
            switch (c)
            {
                case '#':
                    if (_cursor - 1 == _lineStart && _src.AsSpan(_cursor).StartsWith("#") && IsDocStart())
                    {
                        ReadDocBlock();
                        continue;
                    }
                    SkipToEndOfLine();
                    continue;
                case '{' or '}' or '[' or ']' or ':' or ',':
                    _tok = c;
                    return;
                case '\'':
                    _tok = c;
                    _val = ReadString();
                    return;
                case '\n':
                    _line++;
                    _lineStart = _cursor;
                    continue;
                case ' ' or '\t' or '\r':
                    continue;
                default:
                    if (_src.AsSpan(_cursor - 1).StartsWith("true") && !IsWordChar(4))
                    {
                        _cursor += 3;
                        _tok = 't';
                        _val = true;
                        return;
                    }
                    if (_src.AsSpan(_cursor - 1).StartsWith("false") && !IsWordChar(5))
                    {
                        _cursor += 4;
                        _tok = 'f';
                        _val = false;
                        return;
                    }
                    var end = _cursor - 1;
                    while (end < _src.Length && !"[]{}:,\t\r\n '\"".Contains(_src[end]))
                        end++;
                    throw Error($"stray '{_src[(_cursor - 1)..end]}'");
            }
        }
    }

    private bool IsWordChar(int offset)
    {
        var i = _cursor - 1 + offset;
        return i < _src.Length && (char.IsLetterOrDigit(_src[i]) || _src[i] is '_' or '-');
    }

    private bool IsDocStart()
    {
        var end = _src.IndexOf('\n', _cursor);
        var line = _src[(_cursor - 1)..(end < 0 ? _src.Length : end)].TrimEnd('\r');
        if (line != "##")
        {
            if (line.StartsWith("##", StringComparison.Ordinal) && line.Length > 2 && line[2] != '#')
                throw Error("junk after '##' at start of documentation comment");
            return false;
        }
        return true;
    }

    private void SkipToEndOfLine()
    {
        while (_cursor < _src.Length && _src[_cursor] != '\n')
            _cursor++;
    }

    private string ReadString()
    {
        var sb = new StringBuilder();
        while (true)
        {
            if (_cursor >= _src.Length || _src[_cursor] == '\n')
                throw Error("missing terminating \"'\"");
            var ch = _src[_cursor++];
            if (ch == '\'')
                return sb.ToString();
            if (ch == '\\')
            {
                var escaped = _cursor < _src.Length ? _src[_cursor++] : '\0';
                if (escaped != '\\')
                    throw Error($"unknown escape \\{escaped}");
                sb.Append('\\');
                continue;
            }
            if (ch < ' ' || ch > '~')
                throw Error("funny character in string");
            sb.Append(ch);
        }
    }

    private void ReadDocBlock()
    {
        if (_pendingDoc is not null)
            throw new QapiException(_pendingDoc.Info, "documentation comment is not followed by a definition");
        var doc = new QapiDoc(Info(_line));
        SkipToEndOfLine();
        var lines = new List<string>();
        while (true)
        {
            if (_cursor >= _src.Length)
                throw new QapiException(doc.Info, "documentation comment must end with '##'");
            _cursor++; // '\n'
            _line++;
            _lineStart = _cursor;
            var end = _src.IndexOf('\n', _cursor);
            var line = _src[_cursor..(end < 0 ? _src.Length : end)].TrimEnd('\r');
            _cursor = end < 0 ? _src.Length : end;
            if (line == "##")
                break;
            if (!line.StartsWith('#'))
                throw new QapiException(Info(_line), "documentation comment must end with '##'");
            if (line.Length > 1 && line[1] != ' ')
                throw new QapiException(Info(_line), "missing space after #");
            lines.Add(line.Length > 2 ? line[2..] : "");
        }
        QapiDocReader.Fill(doc, lines);
        // Free-form blocks (headings) document nothing; only symbol blocks attach to a definition.
        if (doc.Symbol is not null)
            _pendingDoc = doc;
    }
}
