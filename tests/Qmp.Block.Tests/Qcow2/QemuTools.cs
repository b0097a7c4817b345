using System.Diagnostics;
using System.Text.Json;

namespace Qmp.Block.Tests.Qcow2;

/// <summary>Runs qemu-img and qemu-io for interoperability tests; fails loudly when they are missing.</summary>
internal static class QemuTools
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {tool}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{tool} is not installed ({e.Message}): run tools/setup.sh to install QEMU's tools (qemu-utils)", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return new Result(process.ExitCode, stdout.Result, stderr);
        }
    }

    /// <summary>Runs a tool and insists on exit code 0.</summary>
    public static string Ok(string tool, params string[] args)
    {
        var result = Run(tool, args);
        Assert.True(result.ExitCode == 0, $"{tool} {string.Join(' ', args)} exited {result.ExitCode}: {result.Stderr}{result.Stdout}");
        return result.Stdout;
    }

    public static string Img(params string[] args) => Ok("qemu-img", args);

    /// <summary>qemu-io commands against an image (each -c one command); fails on pattern mismatches too.</summary>
    public static string Io(string image, params string[] commands)
    {
        var args = new List<string>();
        foreach (var command in commands)
        {
            args.Add("-c");
            args.Add(command);
        }
        args.Add(image);
        var output = Ok("qemu-io", [.. args]);
        Assert.DoesNotContain("fail", output, StringComparison.OrdinalIgnoreCase);
        return output;
    }

    public static JsonElement CheckJson(string image, out int exitCode, params string[] extra)
    {
        var result = Run("qemu-img", ["check", "--output=json", .. extra, image]);
        exitCode = result.ExitCode;
        Assert.True(result.Stdout.Length > 0, $"qemu-img check printed nothing (exit {result.ExitCode}): {result.Stderr}");
        return JsonDocument.Parse(result.Stdout).RootElement.Clone();
    }

    /// <summary>qemu-img map's entries: start, length, depth, present, zero, data, offset (null when none).</summary>
    public static List<MapEntry> Map(string image)
    {
        var json = JsonDocument.Parse(Img("map", "--output=json", image)).RootElement;
        var list = new List<MapEntry>();
        foreach (var e in json.EnumerateArray())
        {
            list.Add(new MapEntry(
                e.GetProperty("start").GetInt64(),
                e.GetProperty("length").GetInt64(),
                e.GetProperty("depth").GetInt32(),
                e.GetProperty("present").GetBoolean(),
                e.GetProperty("zero").GetBoolean(),
                e.GetProperty("data").GetBoolean(),
                e.TryGetProperty("offset", out var offset) ? offset.GetInt64() : null));
        }
        return list;
    }

    public sealed record MapEntry(long Start, long Length, int Depth, bool Present, bool Zero, bool Data, long? Offset);
}
