namespace Qmp.Machine.Devices;

/// <summary>A device could not be realized; <see cref="Exception.Message"/> is the reason QMP reports.</summary>
public sealed class DeviceRealizeException(string message, Exception? inner = null) : Exception(message, inner);
