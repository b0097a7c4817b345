using Qmp.Memory;

namespace Qmp.Machine.Devices.Pc;

/// <summary>An <see cref="IIoHandler"/> over two delegates, so one device can serve several regions.</summary>
internal sealed class DelegateIoHandler(Func<ulong, int, ulong> read, Action<ulong, int, ulong> write) : IIoHandler
{
    public ulong Read(ulong offset, int size) => read(offset, size);

    public void Write(ulong offset, int size, ulong value) => write(offset, size, value);
}
