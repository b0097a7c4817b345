namespace Qmp.Cpu.X86;

/// <summary>
/// What CPUID reports: exactly the features this CPU and its board implement (APIC when the
/// board has a local APIC). No x87, MMX or SSE (their
/// opcodes raise #UD, or #NM when CR0.EM or CR0.TS asks for emulation).
/// </summary>
internal static class CpuidInfo
{
    /// <summary>Family 6, model 6, stepping 3: QEMU's qemu32 model, also EDX after reset.</summary>
    public const uint Signature = 0x663;

    public const uint FeatureDe = 1u << 2;
    public const uint FeaturePse = 1u << 3;
    public const uint FeatureTsc = 1u << 4;
    public const uint FeatureMsr = 1u << 5;
    public const uint FeaturePae = 1u << 6;
    public const uint FeatureCx8 = 1u << 8;
    public const uint FeatureApic = 1u << 9;
    public const uint FeatureSep = 1u << 11;
    public const uint FeaturePge = 1u << 13;
    public const uint FeatureCmov = 1u << 15;

    /// <summary>CPUID.1:ECX bit 24: the local APIC timer has TSC-deadline mode.</summary>
    public const uint FeatureTscDeadline = 1u << 24;

    public const uint Features = FeatureDe | FeaturePse | FeatureTsc | FeatureMsr | FeaturePae | FeatureCx8 | FeatureSep | FeaturePge | FeatureCmov;

    public static (uint Eax, uint Ebx, uint Ecx, uint Edx) Query(uint leaf, bool apic)
    {
        var features = Features | (apic ? FeatureApic : 0);
        // "GenuineIntel" in EBX, EDX, ECX.
        const uint ebxVendor = 0x756E6547, edxVendor = 0x49656E69, ecxVendor = 0x6C65746E;
        return leaf switch
        {
            0 => (1, ebxVendor, ecxVendor, edxVendor),
            1 => (Signature, 0, apic ? FeatureTscDeadline : 0, features),
            0x80000000 => (0x80000000, 0, 0, 0),
            >= 0x80000000 => (0, 0, 0, 0),
            // Intel answers leaves above the maximum with the highest basic leaf.
            _ => (Signature, 0, apic ? FeatureTscDeadline : 0, features),
        };
    }
}
