namespace Qmp.Machine.Devices.Pci;

/// <summary>Where a function sits on bus 0: slot (device) 0..31 and function 0..7.</summary>
public readonly record struct PciAddress(int Slot, int Function)
{
    /// <summary>The slot and function packed as QEMU's devfn (slot × 8 + function).</summary>
    public int Devfn => (Slot << 3) | Function;

    /// <summary>The address as QEMU's <c>addr</c> property prints it, e.g. <c>03.0</c>.</summary>
    public override string ToString() => $"{Slot:x2}.{Function:x}";
}
