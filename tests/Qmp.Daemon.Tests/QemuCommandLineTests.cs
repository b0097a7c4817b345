using Qmp.Machine;

namespace Qmp.Daemon.Tests;

public class QemuCommandLineTests
{
    [Fact]
    public void Libvirt_style_probe_command_line_is_understood()
    {
        var options = QemuCommandLine.Parse(
        [
            "-S", "-no-user-config", "-nodefaults", "-machine", "none,accel=kvm:tcg",
            "-qmp", "unix:/var/lib/libvirt/qemu/qmp.monitor,server=on,wait=off",
            "-pidfile", "/var/lib/libvirt/qemu/qmp.pid", "-daemonize",
        ]);
        var machine = Assert.Single(options.Machines);
        Assert.True(machine.Config.StartPaused);
        Assert.Equal("none", machine.Config.MachineType);
        Assert.True(options.Daemonize);
        Assert.Equal("/var/lib/libvirt/qemu/qmp.pid", options.PidFile);
        var monitor = Assert.Single(machine.Monitors);
        Assert.Equal("compat_monitor0", monitor.Chardev.Id);
        Assert.Equal("/var/lib/libvirt/qemu/qmp.monitor", monitor.Chardev.Path);
        Assert.True(monitor.Chardev.Server);
        Assert.False(monitor.Chardev.Wait);
    }

    [Fact]
    public void Libvirt_domain_monitor_on_an_inherited_fd_is_understood()
    {
        var options = QemuCommandLine.Parse(
        [
            "-name", "guest=vm1,debug-threads=on", "-uuid", "5f8e3a5c-2b8e-4e0f-9d44-0b1c4f1e2a3d",
            "-machine", "pc,usb=off,dump-guest-core=off", "-m", "size=1048576k", "-smp", "1,sockets=1,cores=1,threads=1",
            "-chardev", "socket,id=charmonitor,fd=26,server=on,wait=off", "-mon", "chardev=charmonitor,id=monitor,mode=control",
            "-no-shutdown", "-display", "none",
        ]);
        var machine = Assert.Single(options.Machines);
        Assert.Equal("vm1", machine.Config.Name);
        Assert.Equal(1L << 30, machine.Config.RamSize);
        Assert.Equal(1, machine.Config.Cpus);
        Assert.Equal("pc-i440fx-10.0", machine.Config.MachineType);
        Assert.True(machine.Config.NoShutdown);
        Assert.Equal(26, Assert.Single(machine.Monitors).Chardev.Fd);
    }

    [Fact]
    public void Python_harness_monitor_is_a_client_socket()
    {
        var options = QemuCommandLine.Parse(["-display", "none", "-chardev", "socket,id=mon,path=/tmp/x/qmp.sock", "-mon", "chardev=mon,mode=control"]);
        var chardev = Assert.Single(Assert.Single(options.Machines).Monitors).Chardev;
        Assert.False(chardev.Server);
        Assert.Equal("/tmp/x/qmp.sock", chardev.Path);
    }

    [Theory]
    [InlineData("tcp:127.0.0.1:4444,server,nowait", "127.0.0.1", 4444, true, false)]
    [InlineData("tcp::5555,server=on", "", 5555, true, true)]
    [InlineData("unix:/run/q.sock,server=on,wait=off", null, null, true, false)]
    public void Qmp_shorthand_forms_are_parsed(string spec, string? host, int? port, bool server, bool wait)
    {
        var chardev = Assert.Single(Assert.Single(QemuCommandLine.Parse(["-qmp", spec]).Machines).Monitors).Chardev;
        Assert.Equal(host, chardev.Host);
        Assert.Equal(port, chardev.Port);
        Assert.Equal(server, chardev.Server);
        Assert.Equal(wait, chardev.Wait);
    }

    [Theory]
    [InlineData(new[] { "-mon", "chardev=c,mode=readline" }, "-mon: mode 'readline' is not supported: qmpd has QMP monitors only (mode=control)")]
    [InlineData(new[] { "-chardev", "socket,id=c" }, "-chardev: chardev: socket needs exactly one of 'path', 'host'+'port' or 'fd'")]
    [InlineData(new[] { "-chardev", "socket,id=c,path=/x,bogus=1" }, "-chardev: Invalid parameter 'bogus'")]
    [InlineData(new[] { "-qmp", "stdio", "-daemonize" }, "-daemonize: -nographic, -qmp stdio and -serial stdio cannot be used with -daemonize")]
    [InlineData(new[] { "-smp", "0" }, "-smp: Invalid SMP CPUs 0")]
    [InlineData(new[] { "-smp", "2" }, "-smp: Invalid SMP CPUs 2. The max CPUs supported by machine 'pc-i440fx-10.0' is 1")]
    [InlineData(new[] { "-display", "gtk" }, "-display: qmpd is headless: only 'none' is supported")]
    [InlineData(new[] { "--config" }, "--config: takes one file and no other options")]
    [InlineData(new[] { "-machine", "pc,memory-backend=mem" }, "-machine: Memory backend 'mem' not found")]
    [InlineData(new[] { "-m", "64", "-object", "memory-backend-memfd,id=mem,size=128M", "-machine", "memory-backend=mem" }, "-machine: Machine memory size does not match the size of the memory backend")]
    [InlineData(new[] { "-object", "memory-backend-memfd,id=mem,size=1M,hugetlb=on" }, "-object: Property 'memory-backend-memfd.hugetlb' not found")]
    [InlineData(new[] { "-object", "secret,id=s" }, "-object: invalid object type: secret")]
    [InlineData(new[] { "-serial", "chardev:nope" }, "-serial: chardev \"nope\" not found")]
    [InlineData(new[] { "-global", "virtio-blk-pci.num-queues=2" }, "-global: only PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off and PIIX4_PM.acpi-root-pci-hotplug=off are supported (qmpd has no ACPI PCI hotplug)")]
    [InlineData(new[] { "-drive", "file=/x,if=ide" }, "-drive: if=ide is not supported: use if=none with -device (e.g. virtio-blk-pci,drive=ID)")]
    [InlineData(new[] { "-drive", "file=/x,if=none,format=raw,cache=directsync" }, "-drive: cache=directsync is not supported (writeback, none, unsafe)")]
    [InlineData(new[] { "-drive", "file=/x,if=none,format=raw,werror=enospc,rerror=enospc" }, "-drive: 'enospc' invalid read error action")]
    [InlineData(new[] { "-drive", "file=/x,if=none,format=raw,bogus=1" }, "-drive: Invalid parameter 'bogus'")]
    [InlineData(new[] { "-blockdev", "driver=raw,file.driver=file,file.filename=/x" }, "-blockdev: 'node-name' must be specified for the root node")]
    [InlineData(new[] { "-blockdev", "driver=raw,node-name=d,file.driver=file,file.filename=/x,offset=abc" }, "-blockdev: Invalid parameter type for 'offset', expected: integer")]
    [InlineData(new[] { "-blockdev", "driver=vmdk,node-name=d" }, "-blockdev: Parameter 'driver' does not accept value 'vmdk'")]
    [InlineData(new[] { "-device", "{\"id\": \"x\"}" }, "-device: Parameter 'driver' is missing")]
    public void Bad_command_lines_name_the_option(string[] args, string message) =>
        Assert.Equal(message, Assert.Throws<CommandLineException>(() => QemuCommandLine.Parse(args)).Message);

    [Fact]
    public void Memfd_backend_sizes_guest_ram()
    {
        var config = Assert.Single(QemuCommandLine.Parse(["-object", "memory-backend-memfd,id=mem0,size=256M,share=on", "-machine", "pc,memory-backend=mem0"]).Machines).Config;
        Assert.Equal(new MemoryBackendConfig("mem0", "memory-backend-memfd", 256L << 20, true), config.MemoryBackend);
        Assert.Equal(256L << 20, config.RamSize);
    }

    [Fact]
    public void Libvirt_json_object_form_is_understood()
    {
        var config = Assert.Single(QemuCommandLine.Parse(["-machine", "pc-i440fx-10.0,usb=off,dump-guest-core=off,memory-backend=pc.ram",
            "-object", "{\"qom-type\":\"memory-backend-ram\",\"id\":\"pc.ram\",\"size\":67108864}"]).Machines).Config;
        Assert.Equal(new MemoryBackendConfig("pc.ram", "memory-backend-ram", 64L << 20, false), config.MemoryBackend);
    }

    [Fact]
    public void Serial_shorthands_create_chardevs_serial0_and_up()
    {
        var config = Assert.Single(QemuCommandLine.Parse(["-serial", "stdio", "-serial", "null", "-serial", "file:/tmp/s"]).Machines).Config;
        Assert.Equal(["serial0", "serial1", "serial2"], config.Serials);
        Assert.Equal(["stdio", "null", "file"], config.CharBackends.Select(b => b.Backend));
    }

    [Fact]
    public void Debugcon_adds_an_isa_debugcon_on_chardev_debugcon()
    {
        var config = Assert.Single(QemuCommandLine.Parse(["-debugcon", "file:/tmp/dc.log"]).Machines).Config;
        var device = Assert.Single(config.Devices);
        Assert.Equal("isa-debugcon", device.Driver);
        Assert.Equal("debugcon", device.Properties.Single(p => p.Key == "chardev").Value);
        Assert.Equal("file", Assert.Single(config.CharBackends).Backend);
    }

    [Fact]
    public void Machine_help_lists_the_boards_like_QEMU()
    {
        var info = QemuCommandLine.Parse(["-machine", "help"]).InfoOutput;
        Assert.Equal(
            "Supported machines are:\n"
            + "pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-10.0)\n"
            + "pc-i440fx-10.0       Standard PC (i440FX + PIIX, 1996) (default)\n"
            + "none                 empty machine\n",
            info);
    }

    [Fact]
    public void No_arguments_means_the_default_machine()
    {
        var options = QemuCommandLine.Parse([]);
        Assert.True(options.IsDefault);
        var monitors = Assert.Single(options.Machines).Monitors;
        Assert.Equal("qmp.sock", monitors[0].Chardev.Path);
        Assert.Equal(4444, monitors[1].Chardev.Port);
        Assert.All(monitors, m => Assert.False(m.Chardev.Wait));
    }

    [Fact]
    public void Blockdev_dotted_and_json_forms_give_the_same_options()
    {
        var dotted = Assert.Single(Assert.Single(QemuCommandLine.Parse(["-blockdev", "driver=qcow2,node-name=disk0,read-only=on,file.driver=file,file.filename=/x.qcow2,cache.direct=on"]).Machines).Block);
        var json = Assert.Single(Assert.Single(QemuCommandLine.Parse(["-blockdev", """{"driver":"qcow2","node-name":"disk0","read-only":true,"cache":{"direct":true},"file":{"driver":"file","filename":"/x.qcow2"}}"""]).Machines).Block);
        Assert.Equal(json.Options.ToString(), dotted.Options.ToString());
        var qcow2 = Assert.IsType<Qmp.Block.Options.Qcow2BlockdevOptions>(dotted.Options);
        Assert.True(qcow2.ReadOnly);
        Assert.True(qcow2.CacheDirect);
        Assert.Equal("/x.qcow2", Assert.IsType<Qmp.Block.Options.FileBlockdevOptions>(qcow2.File.Definition).Filename);
    }

    [Fact]
    public void Json_device_gives_the_same_properties_as_the_dotted_form()
    {
        var dotted = Assert.Single(Assert.Single(QemuCommandLine.Parse(["-device", "virtio-blk-pci,drive=d0,id=vd0,num-queues=2,share-rw=on"]).Machines).Config.Devices);
        var json = Assert.Single(Assert.Single(QemuCommandLine.Parse(["-device", """{"driver":"virtio-blk-pci","drive":"d0","id":"vd0","num-queues":2,"share-rw":true}"""]).Machines).Config.Devices);
        Assert.Equal(dotted.Driver, json.Driver);
        Assert.Equal(dotted.Properties, json.Properties);
    }

    [Fact]
    public void Config_file_refuses_daemon_options_inside_a_machine()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, """{"machines": [{"args": ["-name", "a", "-pidfile", "/x"]}]}""");
        var error = Assert.Throws<CommandLineException>(() => QemuCommandLine.Parse(["--config", file]));
        Assert.Equal("--config: -pidfile, -daemonize and -D belong to the daemon, not to a machine", error.Message);
        File.WriteAllText(file, """{"machines": [{"args": ["-name", "a"]}, {"args": ["-name", "a"]}]}""");
        Assert.Equal("--config: machine names must be unique", Assert.Throws<CommandLineException>(() => QemuCommandLine.Parse(["--config", file])).Message);
        File.Delete(file);
    }

    [Theory]
    [InlineData("defer")]
    [InlineData("unix:/run/vm/mig.sock")]
    [InlineData("tcp:0.0.0.0:4444")]
    [InlineData("exec:cat /tmp/vm.state")]
    [InlineData("file:/tmp/vm.state,offset=4096")]
    public void Incoming_takes_defer_or_a_migration_uri(string uri)
    {
        var options = QemuCommandLine.Parse(["-incoming", uri]);
        Assert.Equal(uri, options.Machines[0].Incoming);
    }

    [Fact]
    public void Incoming_refuses_an_unknown_protocol_at_start_up()
    {
        var error = Assert.Throws<CommandLineException>(() => QemuCommandLine.Parse(["-incoming", "bogus:x"]));
        Assert.Equal("-incoming: Parameter 'uri' expects a valid migration protocol", error.Message);
    }
}
