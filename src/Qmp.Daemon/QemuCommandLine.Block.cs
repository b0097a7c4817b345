using System.Text.Json;
using System.Text.Json.Nodes;
using Qmp.Block;
using Qmp.Block.Backends;
using Qmp.Block.Options;
using Qmp.Commands.Block;
using Qmp.Schema.Runtime;

namespace Qmp.Daemon;

internal static partial class QemuCommandLine
{
    // -blockdev: JSON (libvirt) or dotted keys (file.filename=...), read as blockdev-add's arguments.
    private static BlockSpec ParseBlockdev(string option, string text)
    {
        JsonNode? json;
        var dotted = !text.TrimStart().StartsWith('{');
        if (dotted)
        {
            json = DottedToJson(option, text);
        }
        else
        {
            try
            {
                json = JsonNode.Parse(text);
            }
            catch (JsonException e)
            {
                throw new CommandLineException(option, $"JSON parse error: {e.Message}");
            }
        }
        Schema.BlockdevOptions parsed;
        try
        {
            using (dotted ? QapiInput.KeyvalScope() : null)
                parsed = Schema.BlockdevOptions.FromJson(json);
        }
        catch (QmpErrorException e)
        {
            throw new CommandLineException(option, e.Message);
        }
        if (parsed.NodeName is null)
            throw new CommandLineException(option, "'node-name' must be specified for the root node");
        return new BlockSpec(option, BlockdevMapping.ToDomain(parsed), null);
    }

    // -drive with the legacy keys management tools still use: file=,format=,if=none,id=,readonly=,cache=,...
    private static BlockSpec ParseDrive(string option, string text, int index)
    {
        var drive = OptionString.Parse(option, text, allowHead: false);
        var file = drive.Get("file") ?? throw new CommandLineException(option, "qmpd needs a medium: file= is missing");
        var iface = drive.Get("if") ?? "ide";
        if (iface != "none")
            throw new CommandLineException(option, $"if={iface} is not supported: use if=none with -device (e.g. virtio-blk-pci,drive=ID)");
        var id = drive.Get("id") ?? $"none{index}";
        if (drive.Get("media") is { } media && media != "disk")
            throw new CommandLineException(option, $"media={media} is not supported");
        if (drive.Get("aio") is { } aio && aio != "threads")
            throw new CommandLineException(option, $"aio={aio} is not supported: qmpd does I/O on a thread pool (aio=threads)");
        var readOnly = drive.GetBool("readonly", false);
        var (direct, noFlush) = (drive.Get("cache") ?? "writeback") switch
        {
            "writeback" => (false, false),
            "none" => (true, false),
            "unsafe" => (false, true),
            var other => throw new CommandLineException(option, $"cache={other} is not supported (writeback, none, unsafe)"),
        };
        var discardUnmap = (drive.Get("discard") ?? "ignore") switch
        {
            "ignore" or "off" => false,
            "unmap" or "on" => true,
            var other => throw new CommandLineException(option, $"Invalid discard option '{other}'"),
        };
        var detectZeroes = (drive.Get("detect-zeroes") ?? "off") switch
        {
            "off" => DetectZeroes.Off,
            "on" => DetectZeroes.On,
            "unmap" => DetectZeroes.Unmap,
            var other => throw new CommandLineException(option, $"Parameter 'detect-zeroes' does not accept value '{other}'"),
        };
        var readPolicy = ErrorPolicy(option, "rerror", drive.Get("rerror") ?? "report");
        var writePolicy = ErrorPolicy(option, "werror", drive.Get("werror") ?? "enospc");
        var nodeName = drive.Get("node-name");
        var format = drive.Get("format");
        drive.CheckAllUsed();
        if (format is null)
        {
            try
            {
                format = BlockGraph.ProbeFormat(file);
            }
            catch (BlockException e)
            {
                throw new CommandLineException(option, e.Message);
            }
            // QEMU's warning: probing is unsafe for raw images a guest could turn into something else.
            Console.Error.WriteLine($"qmpd: WARNING: Image format was not specified for '{file}' and probing guessed {format}.");
        }
        var protocol = BlockdevRef.Inline(new FileBlockdevOptions { Filename = file });
        BlockdevOptions options = format switch
        {
            "raw" => new RawBlockdevOptions { File = protocol },
            "qcow2" => new Qcow2BlockdevOptions { File = protocol },
            _ => throw new CommandLineException(option, $"Unknown driver '{format}'"),
        };
        options = options with
        {
            NodeName = nodeName,
            ReadOnly = readOnly,
            CacheDirect = direct,
            CacheNoFlush = noFlush,
            DiscardUnmap = discardUnmap,
            DetectZeroes = detectZeroes,
        };
        return new BlockSpec(option, options, id) { ReadErrorPolicy = readPolicy, WriteErrorPolicy = writePolicy };
    }

    private static BlockErrorPolicy ErrorPolicy(string option, string key, string value) => value switch
    {
        "report" => BlockErrorPolicy.Report,
        "ignore" => BlockErrorPolicy.Ignore,
        "stop" => BlockErrorPolicy.Stop,
        "enospc" when key == "werror" => BlockErrorPolicy.Enospc,
        _ => throw new CommandLineException(option, $"'{value}' invalid {(key == "rerror" ? "read" : "write")} error action"),
    };

    // a.b=c → {"a": {"b": "c"}}; every leaf stays a string, as QEMU's keyval parser leaves it.
    private static JsonObject DottedToJson(string option, string text)
    {
        var root = new JsonObject();
        foreach (var part in text.Split(','))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0)
                throw new CommandLineException(option, $"Expected '=' after parameter '{part}'");
            var keys = part[..eq].Split('.');
            var target = root;
            for (var i = 0; i < keys.Length - 1; i++)
            {
                if (target[keys[i]] is not JsonObject next)
                {
                    if (target.ContainsKey(keys[i]))
                        throw new CommandLineException(option, $"Parameter '{string.Join('.', keys[..(i + 1)])}' used inconsistently");
                    next = new JsonObject();
                    target[keys[i]] = next;
                }
                target = next;
            }
            if (target.ContainsKey(keys[^1]))
                throw new CommandLineException(option, $"Parameter '{part[..eq]}' appears more than once");
            target[keys[^1]] = part[(eq + 1)..];
        }
        return root;
    }
}
