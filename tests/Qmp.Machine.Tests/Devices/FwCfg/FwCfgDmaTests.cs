using System.Buffers.Binary;
using Qmp.Machine.Devices.FwCfg;
using FwCfgDevice = Qmp.Machine.Devices.FwCfg.FwCfg;

namespace Qmp.Machine.Tests.Devices.FwCfg;

public sealed class FwCfgDmaTests : IDisposable
{
    private const uint Error = 0x01, Read = 0x02, Skip = 0x04, Select = 0x08, Write = 0x10;

    private readonly FwCfgGuest _guest = new();
    private readonly FwCfgDevice _fw = new() { RamSize = 0x800_0000 };

    public FwCfgDmaTests()
    {
        _fw.AddFile("opt/ro", "0123456789"u8.ToArray());
        _fw.AddFile("opt/rw", "abcd"u8.ToArray(), writable: true);
        _guest.Realize(_fw);
    }

    public void Dispose() => _guest.Dispose();

    private ushort SelectOf(string name) => _fw.Files.Single(f => f.Name == name).Select;

    private static uint SelectKey(ushort key) => ((uint)key << 16) | Select;

    [Fact]
    public void Dma_read_copies_an_item_into_guest_ram_and_clears_the_control_word()
    {
        Assert.Equal(0u, _guest.Dma(SelectKey(FwCfgKeys.RamSize) | Read, 8));
        Assert.Equal(0x800_0000UL, BinaryPrimitives.ReadUInt64LittleEndian(_guest.Ram(FwCfgGuest.Buffer, 8)));
    }

    [Fact]
    public void Dma_read_of_a_file_continues_from_the_port_offset_and_zero_fills_past_the_end()
    {
        _guest.Memory.Write(FwCfgGuest.Buffer, "XXXXXXXXXX"u8);
        Assert.Equal("012"u8.ToArray(), _guest.ReadItem(SelectOf("opt/ro"), 3));
        Assert.Equal(0u, _guest.Dma(Read, 10));
        Assert.Equal("3456789\0\0\0"u8.ToArray(), _guest.Ram(FwCfgGuest.Buffer, 10));
    }

    [Fact]
    public void Dma_skip_moves_the_offset_without_touching_ram()
    {
        _guest.Memory.Write(FwCfgGuest.Buffer, "XXXX"u8);
        Assert.Equal(0u, _guest.Dma(SelectKey(SelectOf("opt/ro")) | Skip, 4));
        Assert.Equal("XXXX"u8.ToArray(), _guest.Ram(FwCfgGuest.Buffer, 4));
        Assert.Equal("45"u8.ToArray(), _guest.Read(2));
    }

    [Fact]
    public void Dma_select_alone_selects_and_resets_the_offset()
    {
        _guest.ReadItem(FwCfgKeys.Signature, 2);
        Assert.Equal(0u, _guest.Dma(SelectKey(FwCfgKeys.Signature), 100));
        Assert.Equal("QEMU"u8.ToArray(), _guest.Read(4));
    }

    [Fact]
    public void Dma_write_to_a_read_only_item_sets_the_error_bit_and_changes_nothing()
    {
        _guest.Memory.Write(FwCfgGuest.Buffer, "zz"u8);
        Assert.Equal(Error, _guest.Dma(SelectKey(SelectOf("opt/ro")) | Write, 2));
        Assert.Equal("0123"u8.ToArray(), _guest.ReadItem(SelectOf("opt/ro"), 4));
        Assert.Equal(Error, _guest.Dma(SelectKey(FwCfgKeys.Signature) | Write, 2));
    }

    [Fact]
    public void Dma_write_to_a_writable_file_stores_the_bytes_but_not_past_its_end()
    {
        _guest.Memory.Write(FwCfgGuest.Buffer, "WXYZ!"u8);
        Assert.Equal(0u, _guest.Dma(SelectKey(SelectOf("opt/rw")) | Write, 2));
        Assert.Equal("WXcd"u8.ToArray(), _guest.ReadItem(SelectOf("opt/rw"), 4));
        Assert.Equal(Error, _guest.Dma(SelectKey(SelectOf("opt/rw")) | Write, 5));
    }

    [Fact]
    public void Dma_read_into_unmapped_memory_sets_the_error_bit()
    {
        Assert.Equal(Error, _guest.Dma(SelectKey(FwCfgKeys.Signature) | Read, 4, address: 0x1_0000_0000));
    }

    [Fact]
    public void Dma_read_takes_precedence_over_write_and_skip()
    {
        Assert.Equal(0u, _guest.Dma(SelectKey(FwCfgKeys.Signature) | Read | Write | Skip, 4));
        Assert.Equal("QEMU"u8.ToArray(), _guest.Ram(FwCfgGuest.Buffer, 4));
    }

    [Fact]
    public void Directory_read_by_dma_starts_with_the_big_endian_count()
    {
        Assert.Equal(0u, _guest.Dma(SelectKey(FwCfgKeys.FileDir) | Read, 4));
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32BigEndian(_guest.Ram(FwCfgGuest.Buffer, 4)));
    }

    [Fact]
    public void Dma_register_reads_back_the_QEMU_CFG_signature()
    {
        var io = _guest.Board.Io;
        var bytes = Enumerable.Range(0, 8).Select(i => (byte)io.Read((ushort)(FwCfgDevice.DmaPort + i), 1)).ToArray();
        Assert.Equal("QEMU CFG"u8.ToArray(), bytes);
        // inl returns the bytes in port order, which a big-endian read turns into the constant.
        Assert.Equal(0x51454d55u, BinaryPrimitives.ReverseEndianness(io.Read(FwCfgDevice.DmaPort, 4)));
        Assert.Equal(0x20434647u, BinaryPrimitives.ReverseEndianness(io.Read(FwCfgDevice.DmaPort + 4, 4)));
        var handler = io.Find(FwCfgDevice.DmaPort)!.Handler!;
        Assert.Equal(FwCfgDevice.DmaSignature, BinaryPrimitives.ReverseEndianness(handler.Read(0, 8)));
    }

    [Fact]
    public void Eight_byte_write_of_the_address_starts_a_transfer()
    {
        Span<byte> access = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(access, SelectKey(FwCfgKeys.Signature) | Read);
        BinaryPrimitives.WriteUInt32BigEndian(access[4..], 4);
        BinaryPrimitives.WriteUInt64BigEndian(access[8..], FwCfgGuest.Buffer);
        _guest.Memory.Write(FwCfgGuest.Descriptor, access);
        var handler = _guest.Board.Io.Find(FwCfgDevice.DmaPort)!.Handler!;
        handler.Write(0, 8, BinaryPrimitives.ReverseEndianness(FwCfgGuest.Descriptor));
        Assert.Equal(0u, _guest.ControlWord());
        Assert.Equal("QEMU"u8.ToArray(), _guest.Ram(FwCfgGuest.Buffer, 4));
    }

    [Fact]
    public void High_half_alone_does_not_start_a_transfer()
    {
        _guest.Memory.Write(FwCfgGuest.Descriptor, [0, 0, 0, (byte)Read]);
        _guest.Board.Io.Write(FwCfgDevice.DmaPort, 4, 0);
        Assert.Equal(Read, _guest.ControlWord());
    }
}
