using System.Text.RegularExpressions;

namespace Qmp.Functional.Tests;

/// <summary>
/// Replays QMP transcripts against a real qmpd over a real unix socket and compares every byte
/// of every reply (timestamps aside) with the golden lines.
/// </summary>
public partial class TranscriptTests
{
    public static TheoryData<string> Transcripts()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "transcripts"), "*.txt").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(file));
        return data;
    }

    [GeneratedRegex(@"""seconds"": \d+, ""microseconds"": \d+")]
    private static partial Regex Timestamp();

    [Theory]
    [MemberData(nameof(Transcripts))]
    public async Task Transcript_replays_byte_for_byte(string name)
    {
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "transcripts", name));
        var dir = Qmpd.TempDir();
        var args = lines.First(l => l.StartsWith("# args:", StringComparison.Ordinal))["# args:".Length..]
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(a => a.Replace("$DIR", dir, StringComparison.Ordinal));
        var exit = lines.FirstOrDefault(l => l.StartsWith("# exit:", StringComparison.Ordinal));
        foreach (var setup in lines.Where(l => l.StartsWith("# setup:", StringComparison.Ordinal)))
            await RunSetupAsync(setup["# setup:".Length..].Replace("$DIR", dir, StringComparison.Ordinal));
        var socketPath = Path.Combine(dir, "qmp.sock");
        await using var qmpd = Qmpd.Start(["-qmp", $"unix:{socketPath},server=on,wait=off", .. args]);
        using var connection = new RawQmpConnection(await Qmpd.ConnectUnixAsync(socketPath));
        var number = 0;
        // "<~" lines: events QEMU sent after the reply above them that qmpd may send before it (a job that finished at once).
        var early = new Queue<string>();
        foreach (var line in lines)
        {
            number++;
            if (line.StartsWith("-> ", StringComparison.Ordinal))
            {
                await connection.SendAsync(line[3..].Replace("$DIR", dir, StringComparison.Ordinal) + "\n");
            }
            else if (line == "<- <closed>")
            {
                Assert.True(await connection.ClosedAsync(), $"{name}:{number}: expected the connection to close");
            }
            else if (line.StartsWith("<~ ", StringComparison.Ordinal))
            {
                var expected = line[3..].Replace("$DIR", dir, StringComparison.Ordinal);
                var actual = early.Count > 0 ? early.Dequeue() : Timestamp().Replace(await connection.ReadLineAsync(), "\"seconds\": S, \"microseconds\": U");
                Assert.True(expected == actual, $"{name}:{number}\nexpected: {expected}\nactual:   {actual}\nqmpd output:\n{qmpd.Output}");
            }
            else if (line.StartsWith("<- ", StringComparison.Ordinal))
            {
                var expected = line[3..].Replace("$DIR", dir, StringComparison.Ordinal);
                var actual = Timestamp().Replace(await connection.ReadLineAsync(), "\"seconds\": S, \"microseconds\": U");
                var overtaking = lines.Skip(number).TakeWhile(l => l.StartsWith("<~ ", StringComparison.Ordinal)).Select(l => l[3..].Replace("$DIR", dir, StringComparison.Ordinal)).ToList();
                while (actual != expected && early.Count < overtaking.Count && actual == overtaking[early.Count])
                {
                    early.Enqueue(actual);
                    actual = Timestamp().Replace(await connection.ReadLineAsync(), "\"seconds\": S, \"microseconds\": U");
                }
                Assert.True(expected == actual, $"{name}:{number}\nexpected: {expected}\nactual:   {actual}\nqmpd output:\n{qmpd.Output}");
            }
        }
        if (exit is not null)
            Assert.Equal(int.Parse(exit["# exit:".Length..], System.Globalization.CultureInfo.InvariantCulture), await qmpd.WaitForExitAsync());
        Directory.Delete(dir, recursive: true);
    }

    // "# setup:" lines prepare files (images made by qemu-img, as for the QEMU run that produced the transcript).
    private static async Task RunSetupAsync(string command)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("bash", ["-c", command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"setup '{command}' failed ({process.ExitCode}); run tools/setup.sh to install qemu-utils\n{output}");
    }
}
