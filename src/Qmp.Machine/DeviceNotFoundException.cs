namespace Qmp.Machine;

/// <summary>
/// A request named a device that does not exist; QMP reports it with error class <c>DeviceNotFound</c>
/// (QEMU: <c>Device 'x' not found</c>). The message is shown to the user as is.
/// </summary>
public sealed class DeviceNotFoundException(string message) : Exception(message);
