namespace Qmp.Machine.Loader;

/// <summary>
/// Where a loaded kernel starts and the state the loader hands it: general registers and the
/// descriptor tables the boot code left loaded (QEMU's multiboot option ROM leaves its GDT).
/// </summary>
public sealed record KernelImage(uint Entry, uint Eax, uint Ebx, uint Ecx, uint Esp, uint GdtBase, uint GdtLimit);
