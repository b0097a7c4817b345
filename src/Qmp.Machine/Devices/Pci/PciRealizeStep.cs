namespace Qmp.Machine.Devices.Pci;

/// <summary>The steps of a PCI function's realize and plug that the fault-injection seam can fail.</summary>
internal enum PciRealizeStep
{
    /// <summary>A hotplug slot's pre-plug checks, before the function realizes.</summary>
    PrePlug,

    /// <summary>The devfn was claimed on the bus.</summary>
    Attach,

    /// <summary>The INTx pin was wired to the bus.</summary>
    Irq,

    /// <summary>A BAR was registered.</summary>
    Bar,

    /// <summary>A capability was added.</summary>
    Capability,

    /// <summary>The device-specific realize (and its children's) finished.</summary>
    Realized,

    /// <summary>A hotplug slot's plug step, after the function realized and before the guest is told.</summary>
    Plug,
}
