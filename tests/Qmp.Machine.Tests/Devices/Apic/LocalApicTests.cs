using Qmp.Machine.Devices.Apic;

namespace Qmp.Machine.Tests.Devices.Apic;

public sealed class LocalApicTests
{
    private readonly ApicHarness _h = new();

    private LocalApic Apic => _h.Apic;

    [Fact]
    public void Registers_hold_their_power_on_values()
    {
        Assert.Equal(0u, _h.Read(0x20));
        Assert.Equal(0x00050014u, _h.Read(0x30));
        Assert.Equal(0u, _h.Read(0x80));
        Assert.Equal(0u, _h.Read(0x90));
        Assert.Equal(0u, _h.Read(0xA0));
        Assert.Equal(0u, _h.Read(0xD0));
        Assert.Equal(0xFFFFFFFFu, _h.Read(0xE0));
        Assert.Equal(0xFFu, _h.Read(0xF0));
        for (var offset = 0x100; offset < 0x280; offset += 0x10)
            Assert.Equal(0u, _h.Read(offset));
        Assert.Equal(0u, _h.Read(0x280));
        Assert.Equal(0u, _h.Read(0x300));
        Assert.Equal(0u, _h.Read(0x310));
        Assert.Equal(0x10000u, _h.Read(0x320));
        Assert.Equal(0x10000u, _h.Read(0x330));
        Assert.Equal(0x10000u, _h.Read(0x340));
        Assert.Equal(0x700u, _h.Read(0x350));  // LINT0: ExtINT, virtual wire
        Assert.Equal(0x10000u, _h.Read(0x360));
        Assert.Equal(0x10000u, _h.Read(0x370));
        Assert.Equal(0u, _h.Read(0x380));
        Assert.Equal(0u, _h.Read(0x390));
        Assert.Equal(0u, _h.Read(0x3E0));
        Assert.True(Apic.HardwareEnabled);
        Assert.False(Apic.IsPending);
    }

    [Fact]
    public void Accesses_narrower_than_32_bits_or_inside_a_register_read_0_and_write_nothing()
    {
        var memory = _h.Board.Context.Memory;
        var version = LocalApic.DefaultBaseAddress + 0x30;
        Assert.Equal(0UL, memory.Read(version, 1));
        Assert.Equal(0UL, memory.Read(version, 2));
        Assert.Equal(0UL, memory.Read(version + 4, 4));
        memory.Write(LocalApic.DefaultBaseAddress + 0x80, 1, 0x40);
        memory.Write(LocalApic.DefaultBaseAddress + 0x84, 4, 0x40);
        Assert.Equal(0u, _h.Read(0x80));
        Assert.Equal(0u, _h.Errors());
    }

    [Fact]
    public void Reserved_register_reads_0_and_is_reported_as_an_illegal_register_address()
    {
        Assert.Equal(0u, _h.Read(0x40));
        Assert.Equal(0u, _h.Read(0x280));  // ESR shows errors only after a write
        Assert.Equal(0x80u, _h.Errors());
        Assert.Equal(0u, _h.Errors());
    }

    [Fact]
    public void Read_only_registers_ignore_writes()
    {
        _h.Write(0x30, 0);
        _h.Write(0xA0, 0xF0);
        _h.Write(0x200, 0xFFFFFFFF);
        _h.Write(0x390, 1234);
        Assert.Equal(0x00050014u, _h.Read(0x30));
        Assert.Equal(0u, _h.Read(0xA0));
        Assert.Equal(0u, _h.Read(0x200));
        Assert.Equal(0u, _h.Read(0x390));
    }

    [Fact]
    public void Writable_registers_keep_only_their_defined_bits()
    {
        _h.Write(0x20, 0x05FFFFFF);
        _h.Write(0x80, 0xFFFFFF45);
        _h.Write(0xD0, 0xFFFFFFFF);
        _h.Write(0xE0, 0x0FFFFFFF);
        _h.Write(0xF0, 0xFFFFFFFF);
        _h.Write(0x310, 0xFFFFFFFF);
        _h.Write(0x3E0, 0xFFFFFFFF);
        Assert.Equal(0x05000000u, _h.Read(0x20));
        Assert.Equal(0x45u, _h.Read(0x80));
        Assert.Equal(0xFF000000u, _h.Read(0xD0));
        Assert.Equal(0x0FFFFFFFu, _h.Read(0xE0));
        Assert.Equal(0x1FFu, _h.Read(0xF0));
        Assert.Equal(0xFF000000u, _h.Read(0x310));
        Assert.Equal(0xBu, _h.Read(0x3E0));
    }

    [Fact]
    public void Hardware_disabled_apic_reads_0_ignores_writes_and_comes_back_in_its_reset_state()
    {
        _h.Enable();
        _h.Write(0x80, 0x20);
        Apic.Deliver(0x50, levelTriggered: false);
        Apic.HardwareEnabled = false;
        Assert.Equal(0u, _h.Read(0x30));
        _h.Write(0x80, 0x30);
        Assert.False(Apic.IsPending);
        Apic.Deliver(0x60, levelTriggered: false);
        Apic.HardwareEnabled = true;
        Assert.Equal(0x00050014u, _h.Read(0x30));
        Assert.Equal(0u, _h.Read(0x80));
        Assert.Equal(0xFFu, _h.Read(0xF0));
        Assert.False(_h.InIrr(0x50));
        Assert.False(_h.InIrr(0x60));
    }

    [Fact]
    public void Tpr_holds_back_vectors_of_its_priority_class_and_below()
    {
        _h.Enable();
        _h.Write(0x80, 0x50);
        Apic.Deliver(0x55, levelTriggered: false);
        Apic.Deliver(0x5F, levelTriggered: false);
        Assert.False(Apic.IsPending);
        Assert.True(_h.InIrr(0x55));
        var requests = _h.InterruptRequests;
        _h.Write(0x80, 0x4F);
        Assert.True(Apic.IsPending);
        Assert.True(_h.InterruptRequests > requests);
        Assert.Equal(0x5F, Apic.Acknowledge());
    }

    [Fact]
    public void Ppr_is_the_tpr_or_the_in_service_class_whichever_is_higher()
    {
        _h.Enable();
        _h.Write(0x80, 0x32);
        Assert.Equal(0x32u, _h.Read(0xA0));
        Apic.Deliver(0x71, levelTriggered: false);
        Assert.Equal(0x71, Apic.Acknowledge());
        Assert.Equal(0x70u, _h.Read(0xA0));
        _h.Write(0x80, 0x85);
        Assert.Equal(0x85u, _h.Read(0xA0));
        _h.Write(0x80, 0x7F);
        Assert.Equal(0x7Fu, _h.Read(0xA0));  // same class as the ISR: the TPR with its subclass
        _h.Write(0x80, 0x10);
        _h.Eoi();
        Assert.Equal(0x10u, _h.Read(0xA0));
    }

    [Fact]
    public void Higher_class_nests_and_eoi_retires_the_highest_in_service_vector_first()
    {
        _h.Enable();
        Apic.Deliver(0x40, levelTriggered: false);
        Assert.Equal(0x40, Apic.Acknowledge());
        Apic.Deliver(0x30, levelTriggered: false);
        Assert.False(Apic.IsPending);
        Apic.Deliver(0x80, levelTriggered: false);
        Assert.True(Apic.IsPending);
        Assert.Equal(0x80, Apic.Acknowledge());
        Assert.True(_h.InIsr(0x40));
        Assert.True(_h.InIsr(0x80));
        _h.Eoi();
        Assert.False(_h.InIsr(0x80));
        Assert.True(_h.InIsr(0x40));
        Assert.False(Apic.IsPending);
        _h.Eoi();
        Assert.False(_h.InIsr(0x40));
        Assert.True(Apic.IsPending);
        Assert.Equal(0x30, Apic.Acknowledge());
    }

    [Fact]
    public void Vector_of_the_in_service_class_waits_for_the_eoi_even_if_numerically_higher()
    {
        _h.Enable();
        Apic.Deliver(0x45, levelTriggered: false);
        Apic.Acknowledge();
        Apic.Deliver(0x4A, levelTriggered: false);
        Assert.False(Apic.IsPending);
        _h.Eoi();
        Assert.Equal(0x4A, Apic.Acknowledge());
    }

    [Fact]
    public void Requests_for_one_vector_coalesce_in_irr()
    {
        _h.Enable();
        Apic.Deliver(0x50, levelTriggered: false);
        Apic.Deliver(0x50, levelTriggered: false);
        Assert.Equal(0x50, Apic.Acknowledge());
        Assert.False(Apic.IsPending);
    }

    [Fact]
    public void Eoi_with_nothing_in_service_does_nothing()
    {
        _h.Enable();
        _h.Eoi();
        Assert.Empty(_h.Eois);
        Assert.Equal(0u, _h.Errors());
    }

    [Fact]
    public void Level_triggered_vector_sets_tmr_and_its_eoi_is_broadcast()
    {
        _h.Enable();
        Apic.Deliver(0x60, levelTriggered: true);
        Apic.Deliver(0x70, levelTriggered: false);
        Assert.True(_h.InTmr(0x60));
        Assert.False(_h.InTmr(0x70));
        Assert.Equal(0x70, Apic.Acknowledge());
        _h.Eoi();
        Assert.Empty(_h.Eois);
        Assert.Equal(0x60, Apic.Acknowledge());
        _h.Eoi();
        Assert.Equal([0x60], _h.Eois);
    }

    [Fact]
    public void Software_disabled_apic_holds_requests_and_acknowledge_returns_the_spurious_vector()
    {
        _h.Enable();
        Apic.Deliver(0x50, levelTriggered: false);
        _h.Write(0xF0, 0xEF);
        Assert.False(Apic.IsPending);
        Assert.Equal(0xEF, Apic.Acknowledge());
        Assert.False(_h.InIsr(0x50));
        Assert.True(_h.InIrr(0x50));
        _h.Enable();
        Assert.Equal(0x50, Apic.Acknowledge());
    }

    [Fact]
    public void Tpr_raised_between_intr_and_acknowledge_yields_the_spurious_vector_without_an_isr_bit()
    {
        _h.Enable(spurious: 0xDF);
        Apic.Deliver(0x50, levelTriggered: false);
        Assert.True(Apic.IsPending);
        _h.Write(0x80, 0x60);
        Assert.Equal(0xDF, Apic.Acknowledge());
        Assert.Equal(0u, _h.Read(0x150));
        Assert.True(_h.InIrr(0x50));
    }

    [Fact]
    public void Software_disable_masks_every_lvt_entry_and_the_masks_stick_until_enabled()
    {
        _h.Enable();
        _h.Write(0x320, 0x20030);
        _h.Write(0x360, 0x400);
        _h.Write(0xF0, 0xFF);
        Assert.Equal(0x30030u, _h.Read(0x320));
        Assert.Equal(0x10400u, _h.Read(0x360));
        Assert.Equal(0x10700u, _h.Read(0x350));
        _h.Write(0x320, 0x30);
        Assert.Equal(0x10030u, _h.Read(0x320));
        _h.Enable();
        Assert.Equal(0x10030u, _h.Read(0x320));
        _h.Write(0x320, 0x30);
        Assert.Equal(0x30u, _h.Read(0x320));
    }

    [Fact]
    public void Vectors_below_16_are_refused_and_reported_through_the_error_entry()
    {
        _h.Enable();
        _h.Write(0x370, 0xFE);
        Apic.Deliver(5, levelTriggered: false);
        Assert.False(_h.InIrr(5));
        Assert.True(_h.InIrr(0xFE));
        Assert.Equal(0x40u, _h.Errors());
    }

    [Fact]
    public void Error_entry_with_an_illegal_vector_does_not_loop()
    {
        _h.Enable();
        _h.Write(0x370, 0x03);
        Apic.Deliver(4, levelTriggered: false);
        Assert.Equal(0x40u, _h.Errors());
        Assert.False(Apic.IsPending);
    }

    [Fact]
    public void Self_ipi_sets_its_vector_in_irr()
    {
        _h.Enable();
        _h.Write(0x300, 0x40061);
        Assert.True(_h.InIrr(0x61));
        Assert.False(_h.InTmr(0x61));
        Assert.Equal(0x40061u, _h.Read(0x300));  // delivery status reads idle
        Assert.Equal(0x61, Apic.Acknowledge());
    }

    [Fact]
    public void Ipi_reaches_this_cpu_by_its_physical_id_or_all_including_self_but_not_all_excluding_self()
    {
        _h.Enable();
        _h.Write(0x310, 0);
        _h.Write(0x300, 0x62);
        _h.Write(0x300, 0x80063);
        _h.Write(0x300, 0xC0064);
        _h.Write(0x310, 0x01000000);
        _h.Write(0x300, 0x65);
        _h.Write(0x310, 0xFF000000);
        _h.Write(0x300, 0x66);
        Assert.True(_h.InIrr(0x62));
        Assert.True(_h.InIrr(0x63));
        Assert.False(_h.InIrr(0x64));
        Assert.False(_h.InIrr(0x65));
        Assert.True(_h.InIrr(0x66));
    }

    [Fact]
    public void Logical_destination_matches_the_flat_and_cluster_models()
    {
        _h.Enable();
        _h.Write(0xD0, 0x02000000);
        Assert.True(Apic.AcceptsDestination(0x03, logical: true));
        Assert.False(Apic.AcceptsDestination(0x01, logical: true));
        _h.Write(0xE0, 0x0FFFFFFF);
        _h.Write(0xD0, 0x12000000);
        Assert.True(Apic.AcceptsDestination(0x12, logical: true));
        Assert.True(Apic.AcceptsDestination(0x16, logical: true));
        Assert.False(Apic.AcceptsDestination(0x22, logical: true));
        Assert.False(Apic.AcceptsDestination(0x11, logical: true));
        Assert.True(Apic.AcceptsDestination(0xFF, logical: true));
        _h.Write(0x310, 0x12000000);
        _h.Write(0x300, 0x867);
        Assert.True(_h.InIrr(0x67));
    }

    [Fact]
    public void Nmi_ipi_to_self_requests_an_nmi()
    {
        _h.Enable();
        _h.Write(0x300, 0x40400);
        Assert.Equal(1, _h.Nmis);
        Assert.False(Apic.IsPending);
    }

    [Fact]
    public void Ipi_with_a_vector_below_16_is_not_sent_and_sets_send_illegal_vector()
    {
        _h.Enable();
        _h.Write(0x300, 0x40005);
        Assert.Equal(0u, _h.Read(0x200));
        Assert.Equal(0x20u, _h.Errors());
    }

    [Fact]
    public void Init_and_startup_ipis_deliver_nothing()
    {
        _h.Enable();
        _h.Write(0x300, 0xC4500);
        _h.Write(0x300, 0xC0610);
        _h.Write(0x300, 0x44500);
        Assert.False(Apic.IsPending);
        Assert.Equal(0, _h.Nmis);
        for (var offset = 0x200; offset < 0x280; offset += 0x10)
            Assert.Equal(0u, _h.Read(offset));
    }

    [Fact]
    public void Lint1_in_nmi_mode_requests_an_nmi_on_each_rising_edge()
    {
        Apic.Lint1.Raise();
        Assert.Equal(0, _h.Nmis);  // masked after reset
        Apic.Lint1.Lower();
        _h.Enable();
        _h.Write(0x360, 0x400);
        Apic.Lint1.Raise();
        Apic.Lint1.Raise();
        Assert.Equal(1, _h.Nmis);
        Apic.Lint1.Pulse();
        Assert.Equal(1, _h.Nmis);
        Apic.Lint1.Lower();
        Apic.Lint1.Pulse();
        Assert.Equal(2, _h.Nmis);
    }

    [Fact]
    public void Level_triggered_lint0_sets_remote_irr_and_redelivers_after_eoi_while_asserted()
    {
        _h.Enable();
        _h.Write(0x350, 0x8045);
        Apic.Lint0.Raise();
        Assert.Equal(0xC045u, _h.Read(0x350));
        Assert.True(_h.InTmr(0x45));
        Assert.Equal(0x45, Apic.Acknowledge());
        Apic.Lint0.Raise();
        Assert.False(Apic.IsPending);
        _h.Eoi();
        Assert.Equal([0x45], _h.Eois);
        Assert.True(_h.InIrr(0x45));
        Assert.Equal(0xC045u, _h.Read(0x350));
        Apic.Lint0.Lower();
        Assert.Equal(0x45, Apic.Acknowledge());
        _h.Eoi();
        Assert.Equal(0x8045u, _h.Read(0x350));
        Assert.False(Apic.IsPending);
    }

    [Fact]
    public void Reset_returns_every_register_to_its_power_on_value()
    {
        _h.Enable();
        _h.Write(0x20, 0x03000000);
        _h.Write(0x80, 0x40);
        _h.Write(0xD0, 0x01000000);
        _h.Write(0x320, 0x20040);
        _h.Write(0x380, 1000);
        Apic.Deliver(0x90, levelTriggered: true);
        Apic.Reset();
        Assert.Equal(0u, _h.Read(0x20));
        Assert.Equal(0u, _h.Read(0x80));
        Assert.Equal(0u, _h.Read(0xD0));
        Assert.Equal(0xFFu, _h.Read(0xF0));
        Assert.Equal(0x10000u, _h.Read(0x320));
        Assert.Equal(0x700u, _h.Read(0x350));
        Assert.Equal(0u, _h.Read(0x390));
        Assert.False(_h.InIrr(0x90));
        Assert.False(_h.InTmr(0x90));
        Assert.Equal(0, _h.Clock.ArmedTimers);
    }

    [Fact]
    public void State_round_trip_keeps_registers_requests_and_the_running_timer()
    {
        _h.Enable(spurious: 0xEF);
        _h.Write(0x80, 0x20);
        _h.Write(0xD0, 0x04000000);
        _h.Write(0x360, 0x400);
        _h.Write(0x3E0, 0x1);
        _h.Write(0x320, 0x20030);
        _h.Write(0x380, 500);
        Apic.Deliver(0x90, levelTriggered: true);
        Assert.Equal(0x90, Apic.Acknowledge());
        Apic.Deliver(0x41, levelTriggered: false);
        Apic.Deliver(0x02, levelTriggered: false);
        _h.Clock.Advance(4 * 120);

        var other = new ApicHarness();
        other.Clock.RunUntil(_h.Clock.Now);
        TestBoard.CopyState(Apic, other.Apic);
        for (var offset = 0x20; offset <= 0x3E0; offset += 0x10)
        {
            if (offset != 0x280)
                Assert.Equal(_h.Read(offset), other.Read(offset));
        }
        Assert.Equal(380u, other.Read(0x390));
        Assert.Equal(_h.Errors(), other.Errors());
        Assert.False(other.Apic.IsPending);  // 0x90 in service holds 0x41 back
        other.Eoi();
        Assert.Equal([0x90], other.Eois);
        Assert.Equal(0x41, other.Apic.Acknowledge());
        other.Eoi();
        other.Clock.Advance(4 * 380);
        Assert.True(other.InIrr(0x30));
    }

    [Fact]
    public void Loading_an_unknown_version_names_the_section()
    {
        using var reader = new BinaryReader(new MemoryStream());
        var e = Assert.Throws<InvalidDataException>(() => Apic.LoadState(reader, 2));
        Assert.Contains("'apic'", e.Message);
    }
}
