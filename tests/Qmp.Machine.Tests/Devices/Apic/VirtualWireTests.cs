using Qmp.Machine.Devices.Apic;

namespace Qmp.Machine.Tests.Devices.Apic;

/// <summary>LINT0 in ExtINT mode passes the 8259's request to the CPU (virtual wire mode).</summary>
public sealed class VirtualWireTests
{
    private readonly FakeInterruptSource _pic = new(0x20);
    private readonly ApicHarness _h;

    public VirtualWireTests() => _h = new ApicHarness(_pic);

    private LocalApic Apic => _h.Apic;

    // What the board does when the PIC raises INTR.
    private void PicRaises()
    {
        _pic.IsPending = true;
        Apic.Lint0.Pulse();
    }

    [Fact]
    public void After_reset_the_pic_request_passes_through_and_its_inta_supplies_the_vector()
    {
        var requests = _h.InterruptRequests;
        PicRaises();
        Assert.True(_h.InterruptRequests > requests);
        Assert.True(Apic.IsPending);
        Assert.Equal(0x20, Apic.Acknowledge());
        Assert.Equal(1, _pic.Acknowledgements);
        Assert.False(Apic.IsPending);
        Assert.Equal(0u, _h.Read(0x100));  // ExtINT sets no ISR bit: the PIC's EOI ends it
    }

    [Fact]
    public void Pass_through_keeps_working_after_the_guest_enables_the_apic()
    {
        _h.Enable();
        PicRaises();
        Assert.Equal(0x20, Apic.Acknowledge());
    }

    [Fact]
    public void Pic_request_is_served_before_a_pending_apic_vector()
    {
        _h.Enable();
        Apic.Deliver(0x50, levelTriggered: false);
        PicRaises();
        Assert.Equal(0x20, Apic.Acknowledge());
        Assert.Equal(0x50, Apic.Acknowledge());
    }

    [Fact]
    public void Masking_lint0_stops_the_pass_through_and_unmasking_resumes_it()
    {
        _h.Enable();
        _h.Write(0x350, 0x10700);
        PicRaises();
        Assert.False(Apic.IsPending);
        var requests = _h.InterruptRequests;
        _h.Write(0x350, 0x700);
        Assert.True(Apic.IsPending);
        Assert.True(_h.InterruptRequests > requests);
    }

    [Fact]
    public void Software_disable_masks_lint0_and_ends_the_pass_through()
    {
        _h.Enable();
        _h.Write(0xF0, 0xFF);
        PicRaises();
        Assert.False(Apic.IsPending);
        Assert.Equal(0x10700u, _h.Read(0x350));
    }

    [Fact]
    public void Hardware_disabled_apic_passes_the_pic_through_whatever_lint0_says()
    {
        _h.Enable();
        _h.Write(0x350, 0x10700);
        PicRaises();
        Assert.False(Apic.IsPending);
        Apic.HardwareEnabled = false;
        Assert.True(Apic.IsPending);
        Assert.Equal(0x20, Apic.Acknowledge());
        Apic.Lint1.Pulse();  // LINT1 is the plain NMI pin without the APIC
        Assert.Equal(1, _h.Nmis);
    }

    [Fact]
    public void Lint0_in_fixed_mode_turns_the_pic_request_into_its_own_vector()
    {
        _h.Enable();
        _h.Write(0x350, 0x41);
        PicRaises();
        Assert.True(_h.InIrr(0x41));
        Assert.Equal(0x41, Apic.Acknowledge());
        Assert.Equal(0, _pic.Acknowledgements);
    }

    [Fact]
    public void Lint0_in_nmi_mode_turns_the_pic_request_into_an_nmi()
    {
        _h.Enable();
        _h.Write(0x350, 0x400);
        PicRaises();
        Assert.Equal(1, _h.Nmis);
        Assert.False(Apic.IsPending);
    }

    [Fact]
    public void Acknowledge_with_nothing_pending_runs_the_pic_inta_in_virtual_wire_mode()
    {
        Assert.Equal(0x20, Apic.Acknowledge());
        Assert.Equal(1, _pic.Acknowledgements);
    }
}
