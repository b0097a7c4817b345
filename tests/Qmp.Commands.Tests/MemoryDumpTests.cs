using Qmp.Machine;
using Qmp.Machine.Pc;
using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands.Tests;

/// <summary>pmemsave and memsave on a pc board with 16 MiB of RAM, stopped before it starts.</summary>
public sealed class MemoryDumpTests : IDisposable
{
    private const long Ram = 16L << 20;
    private readonly Machine.Machine _machine;
    private readonly MiscCommands _misc;
    private readonly string _dir = Directory.CreateTempSubdirectory("qmpd-memsave-").FullName;

    public MemoryDumpTests()
    {
        var config = new MachineConfig { Name = "dump", StartPaused = true, RamSize = Ram, Cpus = 2 };
        _machine = new Machine.Machine(config, board: control => new PcBoard(config, control, _ => throw new InvalidOperationException("no chardevs here")));
        _machine.Start();
        var hmp = new HumanMonitor(_machine, new ControlCommands(_machine), new MachineCommands(_machine), new CharCommands(_machine));
        _misc = new MiscCommands(_machine, hmp);
    }

    public void Dispose()
    {
        _machine.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string File(string name) => Path.Combine(_dir, name);

    private Task PokeAsync(ulong address, byte[] bytes) => _machine.InvokeAsync(() => _machine.Board!.Cpu.Memory.Write(address, bytes));

    private Task PmemsaveAsync(long val, long size, string file) =>
        _misc.PmemsaveAsync(new PmemsaveArguments { Val = val, Size = size, Filename = file }, CancellationToken.None).AsTask();

    private Task MemsaveAsync(long val, long size, string file, long? cpu = null) =>
        _misc.MemsaveAsync(new MemsaveArguments { Val = val, Size = size, Filename = file, CpuIndex = cpu }, CancellationToken.None).AsTask();

    [Fact]
    public async Task Pmemsave_writes_guest_ram_as_it_is()
    {
        var pattern = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray();
        await PokeAsync(0x200000, pattern);
        await PmemsaveAsync(0x200000, pattern.Length, File("p"));
        Assert.Equal(pattern, System.IO.File.ReadAllBytes(File("p")));
    }

    [Fact]
    public async Task Pmemsave_past_the_end_of_ram_reads_zeroes_and_succeeds()
    {
        await PokeAsync((ulong)Ram - 2, [0xAA, 0xBB]);
        await PmemsaveAsync(Ram - 2, 8194, File("p"));
        var dump = System.IO.File.ReadAllBytes(File("p"));
        Assert.Equal(8194, dump.Length);
        Assert.Equal([0xAA, 0xBB], dump[..2]);
        Assert.All(dump[2..], b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task Pmemsave_of_nothing_creates_an_empty_file()
    {
        await PmemsaveAsync(0, 0, File("empty"));
        Assert.Empty(System.IO.File.ReadAllBytes(File("empty")));
    }

    [Fact]
    public async Task Pmemsave_to_a_path_that_cannot_be_opened_fails_with_QEMUs_text()
    {
        var e = await Assert.ThrowsAsync<QmpErrorException>(() => PmemsaveAsync(0, 16, "/nonexistent/dir/x"));
        Assert.Equal("Could not open '/nonexistent/dir/x': No such file or directory", e.Message);
        e = await Assert.ThrowsAsync<QmpErrorException>(() => PmemsaveAsync(0, 16, _dir));
        Assert.Equal($"Could not open '{_dir}': Is a directory", e.Message);
    }

    [Fact]
    public async Task A_failed_write_is_an_IO_error()
    {
        var e = await Assert.ThrowsAsync<QmpErrorException>(() => PmemsaveAsync(0, 65536, "/dev/full"));
        Assert.Equal("An IO error has occurred", e.Message);
    }

    [Fact]
    public async Task A_negative_size_is_refused_instead_of_crashing()
    {
        var e = await Assert.ThrowsAsync<QmpErrorException>(() => MemsaveAsync(0, -5, File("m")));
        Assert.Equal("Parameter 'size' expects a non-negative size", e.Message);
    }

    [Fact]
    public async Task Memsave_without_paging_reads_physical_memory()
    {
        await PokeAsync(0x300000, [1, 2, 3, 4]);
        await MemsaveAsync(0x300000, 4, File("m"), cpu: 1);
        Assert.Equal([1, 2, 3, 4], System.IO.File.ReadAllBytes(File("m")));
    }

    [Fact]
    public async Task Memsave_into_unassigned_memory_fails_keeping_the_whole_kilobytes_before()
    {
        // 3000 readable bytes: two whole 1 KiB steps reach the file, the third step fails.
        var e = await Assert.ThrowsAsync<QmpErrorException>(() => MemsaveAsync(Ram - 3000, 8192, File("m")));
        Assert.Equal($"Invalid addr 0x{Ram - 3000:x16}/size 8192 specified", e.Message);
        Assert.Equal(2048, System.IO.File.ReadAllBytes(File("m")).Length);
    }

    [Fact]
    public async Task Memsave_prints_a_negative_address_as_64_bits()
    {
        var e = await Assert.ThrowsAsync<QmpErrorException>(() => MemsaveAsync(-4096, 16, File("m")));
        Assert.Equal("Invalid addr 0xfffffffffffff000/size 16 specified", e.Message);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(-1)]
    public async Task Memsave_with_a_cpu_index_out_of_range_fails_before_opening_the_file(long cpu)
    {
        var e = await Assert.ThrowsAsync<QmpErrorException>(() => MemsaveAsync(0, 16, "/nonexistent/x", cpu));
        Assert.Equal("Parameter 'cpu-index' expects a CPU number", e.Message);
    }
}
