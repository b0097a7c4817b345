using System.Text;
using Qmp.Client;

namespace Qmp.Functional.Tests;

/// <summary>
/// The guest programs of tools/guests (mode switches, paging, exceptions, interrupts through the
/// PIC, self-modifying code, a compute workload) booted with -kernel: qmpd's serial output must be
/// byte for byte what QEMU printed, and when QEMU runs here too, what it prints now.
/// </summary>
public sealed class GuestProgramTests(GuestBuild guests) : IClassFixture<GuestBuild>
{
    public static TheoryData<string> Guests => ["bootinfo", "cpu-modes", "paging", "exceptions", "interrupts", "smc", "bench-quick", "migration"];

    [Theory]
    [MemberData(nameof(Guests))]
    public async Task Guest_prints_what_it_printed_under_qemu(string name)
    {
        var (exit, serial, log) = await RunAsync(Qmpd.Binary, name);
        Assert.True(exit == 1, $"qmpd exited with {exit} (1 means the guest passed):\n{serial}\n{log}");
        Assert.Equal(GuestBuild.Expected(name), serial);
    }

    [Theory]
    [MemberData(nameof(Guests))]
    public async Task Guest_output_is_identical_on_qmpd_and_qemu(string name)
    {
        var qemu = Qmpd.FindTool("qemu-system-i386", "qemu-system-x86");
        var (qemuExit, qemuSerial, _) = await RunAsync(qemu, name, "-accel", "tcg", "-display", "none");
        var (qmpdExit, qmpdSerial, _) = await RunAsync(Qmpd.Binary, name);
        Assert.Equal(qemuExit, qmpdExit);
        Assert.Equal(qemuSerial, qmpdSerial);
    }

    // Guest RAM in a shared memfd that another process (cpr-transfer, a migration helper) could map.
    [Fact]
    public async Task Memfd_backend_holds_guest_ram()
    {
        var dir = Qmpd.TempDir();
        var serialPath = Path.Combine(dir, "serial.txt");
        await using var qmpd = Qmpd.Start(["-nodefaults", "-object", "memory-backend-memfd,id=mem0,size=128M,share=on", "-machine", "pc,memory-backend=mem0",
            "-serial", $"file:{serialPath}", "-kernel", guests.Elf("demo")]);
        await WaitForAsync(() => File.Exists(serialPath) && File.ReadAllText(serialPath).Contains("heartbeat 1", StringComparison.Ordinal), qmpd);
        var links = Directory.GetFiles($"/proc/{qmpd.Process.Id}/fd").Select(f => new FileInfo(f).LinkTarget ?? "").ToList();
        Assert.Contains(links, l => l.StartsWith("/memfd:mem0", StringComparison.Ordinal));
        Assert.Contains("memory: 639 KiB low, 129920 KiB high", File.ReadAllText(serialPath), StringComparison.Ordinal);
        Directory.Delete(dir, recursive: true);
    }

    // -serial unix:...,server=on,wait=off: the guest's serial port on a socket a client can attach to.
    [Fact]
    public async Task Serial_port_on_a_unix_socket_reaches_a_client()
    {
        var dir = Qmpd.TempDir();
        var serialSocket = Path.Combine(dir, "serial.sock");
        var qmpSocket = Path.Combine(dir, "qmp.sock");
        await using var qmpd = Qmpd.Start(["-nodefaults", "-serial", $"unix:{serialSocket},server=on,wait=off",
            "-qmp", $"unix:{qmpSocket},server=on,wait=off", "-kernel", guests.Elf("demo")]);
        await using var client = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync(qmpSocket), ownsSocket: true));
        await client.NegotiateAsync();
        using var serial = new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync(serialSocket), ownsSocket: true);
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (!received.ToString().Contains("heartbeat ", StringComparison.Ordinal))
        {
            var n = await serial.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(n > 0, "the serial socket closed");
            received.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
        var chardevs = (await client.ExecuteAsync("query-chardev"))!.AsArray();
        var serial0 = chardevs.Single(c => c!["label"]!.GetValue<string>() == "serial0")!;
        Assert.Equal($"unix:{serialSocket},server=on", serial0["filename"]!.GetValue<string>());
        Assert.True(serial0["frontend-open"]!.GetValue<bool>());
        await client.ExecuteAsync("quit");
        await qmpd.WaitForExitAsync();
        Assert.False(File.Exists(serialSocket), "the serial socket is unlinked at exit");
        Directory.Delete(dir, recursive: true);
    }

    // The Multiboot info with -append and an -initrd module, as the bootinfo guest reports it.
    [Fact]
    public async Task Initrd_module_and_command_line_are_laid_out_as_qemu_does()
    {
        var dir = Qmpd.TempDir();
        var module = Path.Combine(dir, "module.txt");
        File.WriteAllText(module, "hello module\n");
        var qemu = Qmpd.FindTool("qemu-system-i386", "qemu-system-x86");
        var (qemuExit, qemuSerial, _) = await RunAsync(qemu, "bootinfo", "-display", "none", "-initrd", module, "-append", "a b");
        var (qmpdExit, qmpdSerial, _) = await RunAsync(Qmpd.Binary, "bootinfo", "-initrd", module, "-append", "a b");
        Assert.Equal(1, qemuExit);
        Assert.Contains("mods_count=1", qemuSerial, StringComparison.Ordinal);
        Assert.Equal(qemuExit, qmpdExit);
        Assert.Equal(qemuSerial, qmpdSerial);
        Directory.Delete(dir, recursive: true);
    }

    // system_reset reboots the guest: the kernel is loaded again and starts from its entry.
    [Fact]
    public async Task System_reset_reboots_the_kernel()
    {
        var dir = Qmpd.TempDir();
        var serialPath = Path.Combine(dir, "serial.txt");
        var socketPath = Path.Combine(dir, "qmp.sock");
        await using var qmpd = Qmpd.Start(["-nodefaults", "-serial", $"file:{serialPath}", "-qmp", $"unix:{socketPath},server=on,wait=off", "-kernel", guests.Elf("demo")]);
        await using var client = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync(socketPath), ownsSocket: true));
        await client.NegotiateAsync();
        int Banners() => File.Exists(serialPath) ? File.ReadAllText(serialPath).Split('\n').Count(l => l == "qmpd demo guest") : 0;
        await WaitForAsync(() => Banners() == 1, qmpd);
        var reset = client.WaitEventAsync("RESET");
        await client.ExecuteAsync("system_reset");
        var e = await reset.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(false, e.Data?["guest"]?.GetValue<bool>());
        await WaitForAsync(() => Banners() == 2, qmpd);
        await client.ExecuteAsync("quit");
        await qmpd.WaitForExitAsync();
        Directory.Delete(dir, recursive: true);
    }

    // A guest that pulses the reset line through the keyboard controller (0xFE to port 0x64):
    // under -no-reboot both QEMU and qmpd report SHUTDOWN guest-reset and exit 0.
    [Fact]
    public async Task Keyboard_controller_reset_under_no_reboot_shuts_down_as_on_qemu()
    {
        var dir = Qmpd.TempDir();
        var rom = new byte[64 * 1024];
        new byte[] { 0xB0, 0xFE, 0xE6, 0x64, 0xF4 }.CopyTo(rom, 0xFFF0);
        var romPath = Path.Combine(dir, "rom.bin");
        File.WriteAllBytes(romPath, rom);
        foreach (var binary in new[] { Qmpd.Binary, Qmpd.FindTool("qemu-system-i386", "qemu-system-x86") })
        {
            var socketPath = Path.Combine(dir, "qmp.sock");
            await using var process = CapturedProcess.Start(binary, ["-nodefaults", "-display", "none", "-no-reboot", "-S", "-bios", romPath,
                "-qmp", $"unix:{socketPath},server=on,wait=off"]);
            await using var client = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync(socketPath), ownsSocket: true));
            await client.NegotiateAsync();
            var shutdown = client.WaitEventAsync("SHUTDOWN");
            await client.ExecuteAsync("cont");
            var e = await shutdown.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(true, e.Data?["guest"]?.GetValue<bool>());
            Assert.Equal("guest-reset", e.Data?["reason"]?.GetValue<string>());
            Assert.Equal(0, await process.WaitForExitAsync());
        }
        Directory.Delete(dir, recursive: true);
    }

    // inject-nmi reaches a guest halted with interrupts off, through LINT1 of the local APIC as on
    // QEMU's pc; the nmi guest prints the same on both.
    [Fact]
    public async Task Inject_nmi_reaches_a_halted_guest_as_on_qemu()
    {
        var outputs = new List<string>();
        foreach (var binary in new[] { Qmpd.Binary, Qmpd.FindTool("qemu-system-i386", "qemu-system-x86") })
        {
            var dir = Qmpd.TempDir();
            var serialPath = Path.Combine(dir, "serial.txt");
            var socketPath = Path.Combine(dir, "qmp.sock");
            await using var process = CapturedProcess.Start(binary, ["-nodefaults", "-display", "none", "-serial", $"file:{serialPath}", "-kernel", guests.Elf("nmi"),
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-qmp", $"unix:{socketPath},server=on,wait=off"]);
            await using var client = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync(socketPath), ownsSocket: true));
            await client.NegotiateAsync();
            await WaitForAsync(() => File.Exists(serialPath) && File.ReadAllText(serialPath).Contains("waiting for NMI", StringComparison.Ordinal), process);
            try
            {
                await client.ExecuteAsync("inject-nmi");
            }
            catch (IOException)
            {
                // The guest may exit (isa-debug-exit) before the reply leaves, on QEMU too.
            }
            Assert.Equal(1, await process.WaitForExitAsync());
            outputs.Add(File.ReadAllText(serialPath));
            Directory.Delete(dir, recursive: true);
        }
        Assert.EndsWith("NMI: vector 2 while halted\nPASS\n", outputs[0], StringComparison.Ordinal);
        Assert.Equal(outputs[1], outputs[0]);
    }

    // A 64 KiB firmware image whose reset vector (F000:FFF0) writes 0x2A to isa-debug-exit.
    [Fact]
    public async Task Bios_rom_runs_from_the_reset_vector_as_on_qemu()
    {
        var dir = Qmpd.TempDir();
        var rom = new byte[64 * 1024];
        new byte[] { 0xB0, 0x2A, 0xE6, 0xF4, 0xF4 }.CopyTo(rom, 0xFFF0);
        var romPath = Path.Combine(dir, "rom.bin");
        File.WriteAllBytes(romPath, rom);
        string[] args = ["-nodefaults", "-display", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-bios", romPath];
        await using (var qmpd = Qmpd.Start(args))
            Assert.Equal((0x2A << 1) | 1, await qmpd.WaitForExitAsync());
        var qemu = Qmpd.FindTool("qemu-system-i386", "qemu-system-x86");
        await using (var reference = CapturedProcess.Start(qemu, args))
            Assert.Equal((0x2A << 1) | 1, await reference.WaitForExitAsync());
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Demo_guest_powers_off_on_system_powerdown()
    {
        var dir = Qmpd.TempDir();
        var serialPath = Path.Combine(dir, "serial.txt");
        var socketPath = Path.Combine(dir, "qmp.sock");
        await using var qmpd = Qmpd.Start(["-nodefaults", "-serial", $"file:{serialPath}", "-qmp", $"unix:{socketPath},server=on,wait=off", "-kernel", guests.Elf("demo")]);
        await using var client = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync(socketPath), ownsSocket: true));
        await client.NegotiateAsync();
        await WaitForAsync(() => File.Exists(serialPath) && File.ReadAllText(serialPath).Contains("heartbeat 2", StringComparison.Ordinal), qmpd);
        var shutdown = client.WaitEventAsync("SHUTDOWN");
        await client.ExecuteAsync("system_powerdown");
        var e = await shutdown.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(true, e.Data?["guest"]?.GetValue<bool>());
        Assert.Equal("guest-shutdown", e.Data?["reason"]?.GetValue<string>());
        Assert.Equal(0, await qmpd.WaitForExitAsync());
        var serial = File.ReadAllText(serialPath);
        Assert.StartsWith("qmpd demo guest\n", serial, StringComparison.Ordinal);
        Assert.Contains("power button: ACPI SCI on IRQ 9\n", serial, StringComparison.Ordinal);
        Assert.EndsWith("power button: shutting down\n", serial, StringComparison.Ordinal);
        Directory.Delete(dir, recursive: true);
    }

    // stop reaches the CPU at a block boundary even while the guest runs; nothing runs while
    // paused (the virtual clock stands still too), and cont resumes where it stopped.
    [Fact]
    public async Task Stopped_guest_makes_no_progress_until_cont()
    {
        var dir = Qmpd.TempDir();
        var serialPath = Path.Combine(dir, "serial.txt");
        var socketPath = Path.Combine(dir, "qmp.sock");
        await using var qmpd = Qmpd.Start(["-nodefaults", "-serial", $"file:{serialPath}", "-qmp", $"unix:{socketPath},server=on,wait=off", "-kernel", guests.Elf("demo")]);
        await using var client = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync(socketPath), ownsSocket: true));
        await client.NegotiateAsync();
        int Beats() => File.Exists(serialPath) ? File.ReadAllText(serialPath).Split('\n').Count(l => l.StartsWith("heartbeat ", StringComparison.Ordinal)) : 0;
        await WaitForAsync(() => Beats() >= 1, qmpd);
        await client.ExecuteAsync("stop");
        // The serial file is written by a background writer: let what the guest sent before the stop land.
        await Task.Delay(TimeSpan.FromSeconds(0.5));
        var paused = Beats();
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Equal(paused, Beats());
        await client.ExecuteAsync("cont");
        await WaitForAsync(() => Beats() > paused, qmpd);
        Assert.Contains($"heartbeat {paused + 1}\n", File.ReadAllText(serialPath), StringComparison.Ordinal);
        await client.ExecuteAsync("quit");
        await qmpd.WaitForExitAsync();
        Directory.Delete(dir, recursive: true);
    }

    private static async Task WaitForAsync(Func<bool> condition, CapturedProcess process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out; qmpd said:\n{process.Output}");
            Assert.False(process.Process.HasExited, $"qmpd exited early:\n{process.Output}");
            await Task.Delay(50);
        }
    }

    private async Task<(int Exit, string Serial, string Log)> RunAsync(string binary, string name, params string[] extra)
    {
        var dir = Qmpd.TempDir();
        var serialPath = Path.Combine(dir, "serial.txt");
        var elf = name == "bench-quick" ? guests.Elf("bench") : guests.Elf(name);
        List<string> args = ["-nodefaults", "-no-reboot", "-serial", $"file:{serialPath}", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", elf, .. extra];
        if (name == "bench-quick")
            args.AddRange(["-append", "iterations=4"]);
        if (name == "migration")
            args.AddRange(["-append", "passes=20"]);
        await using var process = CapturedProcess.Start(binary, args);
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(120));
        var serial = File.ReadAllText(serialPath);
        Directory.Delete(dir, recursive: true);
        return (exit, serial, process.Output);
    }
}
