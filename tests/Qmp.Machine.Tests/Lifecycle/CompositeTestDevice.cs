using Qmp.Machine.Devices;
using Qmp.Memory;

namespace Qmp.Machine.Tests.Lifecycle;

/// <summary>
/// A device that takes every kind of resource a realize can take, in order: ports, an MMIO page,
/// an IRQ (raised), a host fd (a memfd RAM block), a realized child. <see cref="FailAtStep"/>
/// makes the realize throw right after that many steps.
/// </summary>
internal sealed class CompositeTestDevice : Device
{
    public const int Steps = 5;

    public override string TypeName => "test-composite";

    public int FailAtStep { get; init; } = -1;

    public CompositeTestDevice? Child { get; init; }

    public RamBlock? HostMemory { get; private set; }

    public ushort Port { get; init; } = 0x300;

    /// <summary>A name unique to this instance, so a test can find its memfd among the process's fds.</summary>
    public string MemfdName { get; } = $"test-composite-{Guid.NewGuid():N}";

    protected override void OnRealize(RealizeScope scope)
    {
        var step = 0;
        void Next()
        {
            if (step++ == FailAtStep)
                throw new DeviceRealizeException($"{TypeName}: injected failure after step {FailAtStep}");
        }
        Next();
        scope.MapPorts(Port, MemoryRegion.Io("test-ports", 8, new NullHandler()));
        Next();
        scope.MapMemory(0xFED00000 + (ulong)Port * 0x1000, MemoryRegion.Io("test-mmio", 0x1000, new NullHandler()), priority: 1);
        Next();
        scope.ConnectIrq(5).Raise();
        Next();
        HostMemory = scope.Own(RamBlock.CreateMemfd(MemfdName, 4096, share: false));
        Next();
        if (Child is not null)
            scope.RealizeChild(Child);
        Next();
    }

    private sealed class NullHandler : IIoHandler
    {
        public ulong Read(ulong offset, int size) => 0;

        public void Write(ulong offset, int size, ulong value)
        {
        }
    }
}
