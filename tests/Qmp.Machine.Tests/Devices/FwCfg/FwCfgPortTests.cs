using System.Buffers.Binary;
using System.Text;
using Qmp.Machine.Devices;
using Qmp.Machine.Devices.FwCfg;
using Qmp.Machine.Devices.Pc;
using FwCfgDevice = Qmp.Machine.Devices.FwCfg.FwCfg;

namespace Qmp.Machine.Tests.Devices.FwCfg;

public sealed class FwCfgPortTests : IDisposable
{
    private readonly FwCfgGuest _guest = new();

    public void Dispose() => _guest.Dispose();

    private static List<(uint Size, ushort Select, ushort Reserved, string Name)> ParseDirectory(byte[] dir)
    {
        var count = BinaryPrimitives.ReadUInt32BigEndian(dir);
        var entries = new List<(uint, ushort, ushort, string)>();
        for (var i = 0; i < count; i++)
        {
            var e = dir.AsSpan(4 + (i * 64), 64);
            var name = e.Slice(8, 56);
            entries.Add((BinaryPrimitives.ReadUInt32BigEndian(e), BinaryPrimitives.ReadUInt16BigEndian(e[4..]),
                BinaryPrimitives.ReadUInt16BigEndian(e[6..]), Encoding.UTF8.GetString(name[..name.IndexOf((byte)0)])));
        }
        return entries;
    }

    private ushort SelectOf(string name) =>
        ParseDirectory(_guest.ReadItem(FwCfgKeys.FileDir, 4 + (64 * 32))).Single(e => e.Name == name).Select;

    [Fact]
    public void Signature_item_reads_QEMU_through_the_data_port()
    {
        _guest.Realize(new FwCfgDevice());
        Assert.Equal("QEMU"u8.ToArray(), _guest.ReadItem(FwCfgKeys.Signature, 4));
    }

    [Fact]
    public void Signature_is_selected_after_realize_without_a_selector_write()
    {
        _guest.Realize(new FwCfgDevice());
        Assert.Equal("QEMU"u8.ToArray(), _guest.Read(4));
    }

    [Fact]
    public void Id_item_advertises_the_traditional_and_dma_interfaces()
    {
        _guest.Realize(new FwCfgDevice());
        Assert.Equal([3, 0, 0, 0], _guest.ReadItem(FwCfgKeys.Id, 4));
    }

    [Fact]
    public void Without_dma_the_id_has_only_bit_0_and_the_dma_register_is_absent()
    {
        _guest.Realize(new FwCfgDevice { DmaEnabled = false });
        Assert.Equal([1, 0, 0, 0], _guest.ReadItem(FwCfgKeys.Id, 4));
        Assert.Null(_guest.Board.Io.Find(FwCfgDevice.DmaPort));
    }

    [Fact]
    public void Ram_size_is_64_bit_and_cpu_counts_are_16_bit_little_endian()
    {
        _guest.Realize(new FwCfgDevice { RamSize = 0x1_2345_6000, CpuCount = 2, MaxCpus = 8 });
        Assert.Equal(0x1_2345_6000UL, BinaryPrimitives.ReadUInt64LittleEndian(_guest.ReadItem(FwCfgKeys.RamSize, 8)));
        Assert.Equal([2, 0], _guest.ReadItem(FwCfgKeys.NbCpus, 2));
        Assert.Equal([8, 0], _guest.ReadItem(FwCfgKeys.MaxCpus, 2));
        // The items end where QEMU's do: the next byte reads as 0.
        Assert.Equal([2, 0, 0], _guest.ReadItem(FwCfgKeys.NbCpus, 3));
    }

    [Fact]
    public void Max_cpus_defaults_to_the_cpu_count()
    {
        _guest.Realize(new FwCfgDevice { CpuCount = 4 });
        Assert.Equal([4, 0], _guest.ReadItem(FwCfgKeys.MaxCpus, 2));
    }

    [Fact]
    public void Uuid_and_nographic_items_follow_the_properties()
    {
        var uuid = Guid.Parse("12345678-9abc-def0-1122-334455667788");
        _guest.Realize(new FwCfgDevice { Uuid = uuid, NoGraphic = true });
        Assert.Equal(Convert.FromHexString("123456789ABCDEF01122334455667788"), _guest.ReadItem(FwCfgKeys.Uuid, 16));
        Assert.Equal([1, 0], _guest.ReadItem(FwCfgKeys.NoGraphic, 2));
    }

    [Fact]
    public void Directory_is_sorted_by_name_with_big_endian_sizes_and_selects_from_0x20()
    {
        var fw = new FwCfgDevice();
        fw.AddFile("opt/zeta", new byte[3]);
        fw.AddFile("opt/alpha", new byte[0x1234]);
        fw.AddE820Table([new FwCfgE820Entry(0, 0x8000000, FwCfgE820Entry.Ram)]);
        _guest.Realize(fw);

        var dir = _guest.ReadItem(FwCfgKeys.FileDir, 4 + (64 * 32) + 1);
        // The item always spans every slot, so the byte after the last slot is past its end.
        Assert.Equal(0, dir[^1]);
        var entries = ParseDirectory(dir);
        Assert.Equal(["bios-geometry", "bootorder", "etc/boot-fail-wait", "etc/e820", "opt/alpha", "opt/zeta"], entries.Select(e => e.Name));
        Assert.Equal(Enumerable.Range(0x20, 6).Select(i => (ushort)i), entries.Select(e => e.Select));
        Assert.Equal([0u, 0u, 4u, 20u, 0x1234u, 3u], entries.Select(e => e.Size));
        Assert.All(entries, e => Assert.Equal(0, e.Reserved));
        Assert.Equal(entries.Select(e => e.Name), fw.Files.Select(f => f.Name));
        Assert.Equal(entries.Select(e => e.Select), fw.Files.Select(f => f.Select));
    }

    [Fact]
    public void File_is_read_by_its_select_key()
    {
        var fw = new FwCfgDevice();
        fw.AddFile("opt/hello", "hello"u8.ToArray());
        _guest.Realize(fw);
        Assert.Equal("hello"u8.ToArray(), _guest.ReadItem(SelectOf("opt/hello"), 5));
    }

    [Fact]
    public void Boot_fail_wait_holds_the_reboot_timeout_little_endian()
    {
        _guest.Realize(new FwCfgDevice());
        Assert.Equal([0xFF, 0xFF, 0xFF, 0xFF], _guest.ReadItem(SelectOf("etc/boot-fail-wait"), 4));
    }

    [Fact]
    public void E820_file_holds_packed_20_byte_entries()
    {
        var fw = new FwCfgDevice();
        fw.AddE820Table([new FwCfgE820Entry(0, 0x9FC00, 1), new FwCfgE820Entry(0x100000000, 0x4000_0000, 1)]);
        _guest.Realize(fw);
        var e820 = _guest.ReadItem(SelectOf("etc/e820"), 40);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(e820));
        Assert.Equal(0x9FC00UL, BinaryPrimitives.ReadUInt64LittleEndian(e820.AsSpan(8)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(e820.AsSpan(16)));
        Assert.Equal(0x100000000UL, BinaryPrimitives.ReadUInt64LittleEndian(e820.AsSpan(20)));
        Assert.Equal(0x4000_0000UL, BinaryPrimitives.ReadUInt64LittleEndian(e820.AsSpan(28)));
    }

    [Fact]
    public void Selecting_an_item_resets_the_offset()
    {
        _guest.Realize(new FwCfgDevice());
        Assert.Equal("QE"u8.ToArray(), _guest.ReadItem(FwCfgKeys.Signature, 2));
        Assert.Equal("QEMU"u8.ToArray(), _guest.ReadItem(FwCfgKeys.Signature, 4));
    }

    [Fact]
    public void Reads_past_the_end_and_of_unknown_keys_return_zero()
    {
        _guest.Realize(new FwCfgDevice());
        Assert.Equal("QEMU\0\0"u8.ToArray(), _guest.ReadItem(FwCfgKeys.Signature, 6));
        Assert.Equal(new byte[4], _guest.ReadItem(0x3FFF, 4));
        Assert.Equal(new byte[4], _guest.ReadItem(0x0006, 4));
    }

    [Fact]
    public void Both_ports_stream_data_and_the_write_channel_bit_reads_the_same_item()
    {
        _guest.Realize(new FwCfgDevice());
        _guest.Select(FwCfgKeys.WriteChannel | FwCfgKeys.Signature);
        Assert.Equal((byte)'Q', _guest.Board.In(FwCfgDevice.SelectorPort));
        Assert.Equal((byte)'E', _guest.Board.In(FwCfgDevice.DataPort));
        // Data-port writes are ignored since QEMU 2.4 and do not move the offset.
        _guest.Board.Out(FwCfgDevice.DataPort, 0x55);
        Assert.Equal((byte)'M', _guest.Board.In(FwCfgDevice.DataPort));
        // A 16-bit read of the selector is not a valid access: it reads 0 and consumes nothing.
        Assert.Equal(0u, _guest.Board.Io.Read(FwCfgDevice.SelectorPort, 2));
        Assert.Equal((byte)'U', _guest.Board.In(FwCfgDevice.DataPort));
    }

    [Fact]
    public void Numbered_items_can_be_added_and_replaced_but_not_the_devices_own()
    {
        var fw = new FwCfgDevice();
        fw.AddItem(FwCfgKeys.KernelSize, [1, 2, 3, 4]);
        _guest.Realize(fw);
        Assert.Equal([1, 2, 3, 4], _guest.ReadItem(FwCfgKeys.KernelSize, 4));
        fw.AddItem(FwCfgKeys.KernelSize, [9]);
        fw.AddItem(FwCfgKeys.Hpet, [0xFF]);
        Assert.Equal([9, 0], _guest.ReadItem(FwCfgKeys.KernelSize, 2));
        Assert.Equal([0xFF], _guest.ReadItem(FwCfgKeys.Hpet, 1));
        Assert.Throws<ArgumentException>(() => fw.AddItem(FwCfgKeys.RamSize, [0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => fw.AddItem(FwCfgKeys.FileFirst, [0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => fw.AddItem(FwCfgKeys.WriteChannel | 7, [0]));
    }

    [Fact]
    public void Reset_selects_the_signature_again()
    {
        var fw = _guest.Realize(new FwCfgDevice());
        _guest.ReadItem(FwCfgKeys.Id, 2);
        fw.Reset();
        Assert.Equal("QEMU"u8.ToArray(), _guest.Read(4));
    }

    [Fact]
    public void State_round_trip_keeps_the_selector_offset_and_dma_address()
    {
        static FwCfgDevice Configured()
        {
            var fw = new FwCfgDevice();
            fw.AddFile("opt/data", "abcdef"u8.ToArray());
            return fw;
        }

        var source = _guest.Realize(Configured());
        var select = SelectOf("opt/data");
        Assert.Equal("abc"u8.ToArray(), _guest.ReadItem(select, 3));
        _guest.Board.Io.Write(FwCfgDevice.DmaPort, 4, BinaryPrimitives.ReverseEndianness(0x12u));

        using var other = new FwCfgGuest();
        var target = other.Realize(Configured());
        TestBoard.CopyState(source, target);

        Assert.Equal("def\0"u8.ToArray(), other.Read(4));
        using var saved = new MemoryStream();
        using (var writer = new BinaryWriter(saved))
            target.SaveState(writer);
        var state = saved.ToArray();
        Assert.Equal(select, BinaryPrimitives.ReadUInt16LittleEndian(state));
        Assert.Equal(0x12UL << 32, BinaryPrimitives.ReadUInt64LittleEndian(state.AsSpan(6)));
    }

    [Fact]
    public void Loading_a_selector_beyond_the_table_is_refused()
    {
        var fw = _guest.Realize(new FwCfgDevice());
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write((ushort)0x0100);
            writer.Write(0u);
            writer.Write(0UL);
        }
        stream.Position = 0;
        using var reader = new BinaryReader(stream);
        var e = Assert.Throws<InvalidDataException>(() => fw.LoadState(reader, fw.StateVersion));
        Assert.Contains("fw_cfg", e.Message);
    }

    [Fact]
    public void Realize_fails_when_a_port_is_taken_and_leaves_nothing_mapped()
    {
        _guest.Board.Realize(new IsaDebugExit { IoBase = 0x518, IoSize = 1 });
        var fw = new FwCfgDevice();
        Assert.Throws<DeviceRealizeException>(() => _guest.Realize(fw));
        Assert.False(fw.Realized);
        Assert.Empty(fw.Files);
        for (ushort port = 0x510; port < 0x518; port++)
            Assert.Null(_guest.Board.Io.Find(port));
    }

    [Fact]
    public void Duplicate_file_name_is_refused_at_realize()
    {
        var fw = new FwCfgDevice();
        fw.AddFile("opt/x", [1]);
        fw.AddFile("opt/x", [2]);
        var e = Assert.Throws<DeviceRealizeException>(() => _guest.Realize(fw));
        Assert.Equal("duplicate fw_cfg file name: opt/x", e.Message);
        Assert.Null(_guest.Board.Io.Find(FwCfgDevice.SelectorPort));
    }

    [Fact]
    public void A_file_named_like_one_the_device_adds_is_a_duplicate()
    {
        var fw = new FwCfgDevice();
        fw.AddFile("bootorder", [1]);
        var e = Assert.Throws<DeviceRealizeException>(() => _guest.Realize(fw));
        Assert.Equal("duplicate fw_cfg file name: bootorder", e.Message);
    }

    [Fact]
    public void Names_over_55_bytes_and_more_files_than_slots_are_refused()
    {
        var fw = new FwCfgDevice();
        fw.AddFile("opt/" + new string('n', 52), []);
        Assert.Equal("name too long (max. 55 char)", Assert.Throws<DeviceRealizeException>(() => _guest.Realize(fw)).Message);

        var crowded = new FwCfgDevice();
        for (var i = 0; i < 30; i++)
            crowded.AddFile($"opt/{i:D2}", []);
        Assert.Contains("slots", Assert.Throws<DeviceRealizeException>(() => _guest.Realize(crowded)).Message);
    }

    [Fact]
    public void Directory_and_properties_are_fixed_after_realize()
    {
        var fw = _guest.Realize(new FwCfgDevice());
        Assert.Throws<InvalidOperationException>(() => fw.AddFile("opt/late", []));
        Assert.Contains("after it was realized", Assert.Throws<InvalidOperationException>(() => fw.RamSize = 1).Message);
    }

    [Fact]
    public void Unrealize_frees_the_ports_and_a_second_realize_rebuilds_the_items()
    {
        var fw = new FwCfgDevice();
        fw.AddFile("opt/a", [7]);
        _guest.Realize(fw);
        fw.Unrealize();
        Assert.Null(_guest.Board.Io.Find(FwCfgDevice.SelectorPort));
        Assert.Null(_guest.Board.Io.Find(FwCfgDevice.DmaPort + 7));
        _guest.Realize(fw);
        Assert.Equal([7], _guest.ReadItem(SelectOf("opt/a"), 1));
    }

    [Fact]
    public void Type_and_section_names_are_qemus()
    {
        var fw = new FwCfgDevice();
        Assert.Equal("fw_cfg_io", fw.TypeName);
        Assert.Equal("fw_cfg", fw.SectionName);
    }
}
