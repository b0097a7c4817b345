using System.Buffers.Binary;
using System.ComponentModel;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Qmp.Cpu.X86.Tests.Differential;

/// <summary>
/// Runs <see cref="CpuCase"/>s on the host CPU through the freestanding 32-bit program in
/// Native/harness.c (wire format documented there). The program is built with gcc -m32 once per
/// source version into a cache directory under the temp path; each <see cref="RunAsync"/> call is one
/// process that answers a whole batch.
/// </summary>
internal sealed class NativeHarness
{
    private const uint RequestMagic = 0x5550_4351; // "QCPU"
    private const uint ProtocolVersion = 1;
    private const int CaseHeaderSize = 10 * sizeof(uint);
    private const int ResultHeaderSize = 13 * sizeof(uint);
    private const int ResultSize = ResultHeaderSize + CpuLayout.DataSize;

    private static readonly SemaphoreSlim _buildGate = new(1, 1);
    private static NativeHarness? _built;

    private NativeHarness(string executablePath) => ExecutablePath = executablePath;

    public string ExecutablePath { get; }

    /// <summary>Where harness.c and build.sh are copied next to the test assembly.</summary>
    public static string SourceDirectory => Path.Combine(AppContext.BaseDirectory, "Native");

    /// <summary>Builds the harness (or reuses the cached build of the same sources).</summary>
    public static async Task<NativeHarness> BuildAsync(CancellationToken cancellationToken)
    {
        await _buildGate.WaitAsync(cancellationToken);
        try
        {
            return _built ??= await BuildUncachedAsync(cancellationToken);
        }
        finally
        {
            _buildGate.Release();
        }
    }

    /// <summary>Runs a batch in one harness process; outcomes are in case order.</summary>
    public async Task<IReadOnlyList<CpuOutcome>> RunAsync(IReadOnlyList<CpuCase> cases, CancellationToken cancellationToken)
    {
        foreach (var c in cases)
            c.Validate();

        var start = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {ExecutablePath}.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException(
                $"Could not run the 32-bit harness {ExecutablePath}: {e.Message}. The host kernel must run i386 ELF binaries (IA32 emulation).", e);
        }

        using (process)
        {
            using var killOnCancel = cancellationToken.Register(() => Kill(process));
            var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
            // The pipes are small: feed cases on another thread while this one drains results.
            var feeding = Task.Run(() => WriteCasesAsync(process.StandardInput.BaseStream, cases, cancellationToken), CancellationToken.None);

            var outcomes = new List<CpuOutcome>(cases.Count);
            var buffer = new byte[ResultSize];
            var output = process.StandardOutput.BaseStream;
            while (outcomes.Count < cases.Count)
            {
                var read = await output.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
                if (read < buffer.Length)
                    break;
                outcomes.Add(Parse(buffer));
            }

            await process.WaitForExitAsync(cancellationToken);
            var stderr = await errors;
            Exception? feedError = null;
            try
            {
                await feeding;
            }
            catch (IOException e)
            {
                feedError = e; // broken pipe once the harness died; the exit status says why
            }

            if (outcomes.Count == cases.Count && process.ExitCode == 0)
                return outcomes;

            var message = new StringBuilder()
                .Append("The native harness stopped after ").Append(outcomes.Count).Append(" of ").Append(cases.Count)
                .Append(" cases with exit status ").Append(process.ExitCode).AppendLine(".");
            if (stderr.Length > 0)
                message.Append("stderr: ").AppendLine(stderr.Trim());
            if (feedError is not null)
                message.Append("while writing cases: ").AppendLine(feedError.Message);
            if (outcomes.Count < cases.Count)
                message.AppendLine("Case being run:").Append(CaseFormatter.Describe(cases[outcomes.Count]));
            throw new InvalidOperationException(message.ToString());
        }
    }

    private static async Task WriteCasesAsync(Stream input, IReadOnlyList<CpuCase> cases, CancellationToken cancellationToken)
    {
        await using (input)
        {
            var header = new byte[3 * sizeof(uint)];
            BinaryPrimitives.WriteUInt32LittleEndian(header, RequestMagic);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), ProtocolVersion);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), (uint)cases.Count);
            await input.WriteAsync(header, cancellationToken);
            var buffer = new byte[CaseHeaderSize + CpuLayout.MaxCodeLength + CpuLayout.DataSize];
            foreach (var c in cases)
            {
                var length = Serialize(c, buffer);
                await input.WriteAsync(buffer.AsMemory(0, length), cancellationToken);
            }

            await input.FlushAsync(cancellationToken);
        }
    }

    private static int Serialize(CpuCase c, byte[] buffer)
    {
        var span = buffer.AsSpan();
        for (var i = 0; i < CpuLayout.RegisterCount; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(span[(4 * i)..], c.Registers[i]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[32..], c.Eflags);
        BinaryPrimitives.WriteUInt32LittleEndian(span[36..], (uint)c.Code.Length);
        c.Code.CopyTo(span[CaseHeaderSize..]);
        c.Data.CopyTo(span[(CaseHeaderSize + c.Code.Length)..]);
        return CaseHeaderSize + c.Code.Length + c.Data.Length;
    }

    private static CpuOutcome Parse(byte[] buffer)
    {
        uint Word(int index) => BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(4 * index));
        var vector = Word(10);
        return new CpuOutcome
        {
            Registers = [.. Enumerable.Range(0, CpuLayout.RegisterCount).Select(Word)],
            Eip = Word(8),
            Eflags = Word(9),
            Vector = vector is CpuLayout.NoFaultVector or CpuLayout.TimeoutVector ? null : vector,
            TimedOut = vector == CpuLayout.TimeoutVector,
            ErrorCode = Word(11),
            Cr2 = Word(12),
            Data = buffer.AsSpan(ResultHeaderSize, CpuLayout.DataSize).ToArray(),
        };
    }

    private static async Task<NativeHarness> BuildUncachedAsync(CancellationToken cancellationToken)
    {
        var source = Path.Combine(SourceDirectory, "harness.c");
        var script = Path.Combine(SourceDirectory, "build.sh");
        if (!File.Exists(source) || !File.Exists(script))
            throw new InvalidOperationException($"Native harness sources not found in {SourceDirectory} (Native/** must be copied to the test output).");

        // Keyed by the sources, so an edited harness is rebuilt and parallel test runs share a build.
        var hash = SHA256.HashData([.. await File.ReadAllBytesAsync(source, cancellationToken), .. await File.ReadAllBytesAsync(script, cancellationToken)]);
        var directory = Path.Combine(Path.GetTempPath(), "qmp-cpu-harness", Convert.ToHexString(hash, 0, 8).ToLowerInvariant());
        var executable = Path.Combine(directory, "harness32");
        if (File.Exists(executable))
            return new NativeHarness(executable);

        Directory.CreateDirectory(directory);
        var temporary = $"{executable}.{Environment.ProcessId}.tmp";
        var (status, output) = await RunToEndAsync("sh", [script, temporary, source], cancellationToken);
        if (status != 0 || !File.Exists(temporary))
        {
            throw new InvalidOperationException(
                $"Building the native CPU harness failed (sh build.sh, exit {status}). It needs gcc able to target i386 "
                + "(gcc -m32 with 32-bit binutils; no 32-bit libc is required). "
                + (output.Contains("not found", StringComparison.Ordinal) ? "gcc does not seem to be installed. " : string.Empty)
                + $"Output:{Environment.NewLine}{output}");
        }

        File.Move(temporary, executable, overwrite: true); // atomic, so a concurrent run sees all or nothing
        return new NativeHarness(executable);
    }

    private static async Task<(int Status, string Output)> RunToEndAsync(string fileName, string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        using var killOnCancel = cancellationToken.Register(() => Kill(process));
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, (await stdout) + (await stderr));
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}
