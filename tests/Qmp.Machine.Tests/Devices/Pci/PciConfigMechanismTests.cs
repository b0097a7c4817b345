namespace Qmp.Machine.Tests.Devices.Pci;

public sealed class PciConfigMechanismTests : IDisposable
{
    private readonly PciTestBoard _pci = new();

    public void Dispose() => _pci.Dispose();

    [Fact]
    public void Host_bridge_answers_at_00_0_as_an_i440fx()
    {
        Assert.Equal(0x12378086u, _pci.ConfigRead(0, 0, 0x00, 4));
        Assert.Equal(0x06000002u, _pci.ConfigRead(0, 0, 0x08, 4));
        Assert.Equal(0x00u, _pci.ConfigRead(0, 0, 0x0E, 1));
        Assert.Equal(0x11001AF4u, _pci.ConfigRead(0, 0, 0x2C, 4));
    }

    [Fact]
    public void Isa_bridge_answers_at_01_0_as_a_multifunction_piix3()
    {
        Assert.Equal(0x70008086u, _pci.ConfigRead(1, 0, 0x00, 4));
        Assert.Equal(0x0601u, _pci.ConfigRead(1, 0, 0x0A, 2));
        Assert.Equal(0x80u, _pci.ConfigRead(1, 0, 0x0E, 1));
        Assert.Equal(0x80808080u, _pci.ConfigRead(1, 0, 0x60, 4));
    }

    [Fact]
    public void Absent_functions_and_other_buses_read_all_ones()
    {
        Assert.Equal(0xFFFFFFFFu, _pci.ConfigRead(5, 0, 0x00, 4));
        Assert.Equal(0xFFFFu, _pci.ConfigRead(0, 3, 0x00, 2));
        Assert.Equal(0xFFu, _pci.ConfigRead(31, 7, 0x3D, 1));
        Assert.Equal(0xFFFFFFFFu, _pci.ConfigRead(0, 0, 0x00, 4, bus: 1));
    }

    [Fact]
    public void Data_port_reads_all_ones_while_the_enable_bit_is_clear()
    {
        _pci.Io.Write(0xCF8, 4, 0x00000000);
        Assert.Equal(0xFFFFFFFFu, _pci.Io.Read(0xCFC, 4));
        _pci.Io.Write(0xCFC, 4, 0x12345678);
        Assert.Equal(0x12378086u, _pci.ConfigRead(0, 0, 0x00, 4));
    }

    [Fact]
    public void Config_address_reads_back_and_changes_only_on_dword_writes()
    {
        _pci.Io.Write(0xCF8, 4, 0x80000810);
        Assert.Equal(0x80000810u, _pci.Io.Read(0xCF8, 4));
        _pci.Io.Write(0xCF8, 2, 0x1234);
        _pci.Io.Write(0xCFA, 1, 0x56);
        Assert.Equal(0x80000810u, _pci.Io.Read(0xCF8, 4));
    }

    [Fact]
    public void Byte_and_word_accesses_take_the_byte_lane_of_the_data_port()
    {
        _pci.Io.Write(0xCF8, 4, PciTestBoard.ConfigAddress(0, 1, 0, 0x00));
        Assert.Equal(0x86u, _pci.Io.Read(0xCFC, 1));
        Assert.Equal(0x80u, _pci.Io.Read(0xCFD, 1));
        Assert.Equal(0x00u, _pci.Io.Read(0xCFE, 1));
        Assert.Equal(0x70u, _pci.Io.Read(0xCFF, 1));
        Assert.Equal(0x7000u, _pci.Io.Read(0xCFE, 2));
        _pci.Io.Write(0xCF8, 4, PciTestBoard.ConfigAddress(0, 1, 0, 0x08));
        Assert.Equal(0x06u, _pci.Io.Read(0xCFF, 1));
    }

    [Fact]
    public void Byte_write_changes_only_its_register()
    {
        _pci.ConfigWrite(1, 0, 0x61, 1, 0x0B);
        Assert.Equal(0x80800B80u, _pci.ConfigRead(1, 0, 0x60, 4));
        _pci.ConfigWrite(1, 0, 0x62, 2, 0x0A0A);
        Assert.Equal(0x0A0A0B80u, _pci.ConfigRead(1, 0, 0x60, 4));
    }

    [Fact]
    public void Read_only_registers_ignore_writes_and_the_interrupt_line_takes_them()
    {
        using var pci = new PciTestBoard();
        pci.Host.Plug(new TestPciDevice(), 3);
        pci.ConfigWrite(3, 0, 0x00, 4, 0xFFFFFFFF);
        pci.ConfigWrite(3, 0, 0x08, 4, 0xFFFFFFFF);
        pci.ConfigWrite(3, 0, 0x3C, 2, 0xFFFF);
        Assert.Equal(0x11E81234u, pci.ConfigRead(3, 0, 0x00, 4));
        Assert.Equal(0x02000000u, pci.ConfigRead(3, 0, 0x08, 4));
        Assert.Equal(0x01FFu, pci.ConfigRead(3, 0, 0x3C, 2));
    }

    [Fact]
    public void Command_register_keeps_only_its_writable_bits()
    {
        using var pci = new PciTestBoard();
        pci.Host.Plug(new TestPciDevice(), 3);
        pci.SetCommand(3, 0xFFFF);
        Assert.Equal(0x0507u, pci.ConfigRead(3, 0, 0x04, 2));
    }

    [Fact]
    public void Status_error_bits_clear_when_written_with_one()
    {
        using var pci = new PciTestBoard();
        var device = new TestPciDevice();
        pci.Host.Plug(device, 3);
        device.SetStatusBits(0x2000 | 0x0100);
        pci.ConfigWrite(3, 0, 0x06, 2, 0x0000);
        Assert.Equal(0x2100u, pci.ConfigRead(3, 0, 0x06, 2));
        pci.ConfigWrite(3, 0, 0x06, 2, 0x2000);
        Assert.Equal(0x0100u, pci.ConfigRead(3, 0, 0x06, 2));
    }

    [Fact]
    public void Access_running_past_the_end_of_config_space_is_clipped()
    {
        _pci.ConfigWrite(1, 0, 0xFE, 2, 0xBEEF);
        // QEMU keeps CONFIG_ADDRESS bits 1:0, so this dword access starts at register 0xFE.
        _pci.Io.Write(0xCF8, 4, PciTestBoard.ConfigAddress(0, 1, 0, 0xFC) | 2);
        Assert.Equal(0x0000BEEFu, _pci.Io.Read(0xCFC, 4));
    }

    [Fact]
    public void Reset_control_register_at_cf9_keeps_the_reset_type_and_resets_on_bit_2()
    {
        _pci.Io.Write(0xCF9, 1, 0x0A);
        Assert.Equal(0x02u, _pci.Io.Read(0xCF9, 1));
        Assert.Empty(_pci.Board.Control.Calls);
        _pci.Io.Write(0xCF9, 1, 0x06);
        Assert.Equal(["reset GuestReset"], _pci.Board.Control.Calls);
    }
}
