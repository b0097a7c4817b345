namespace Qmp.Block.Jobs;

/// <summary>A job command refused, with QEMU's text; <see cref="DeviceNotActive"/> selects QMP's DeviceNotActive class.</summary>
public sealed class JobException(string message, bool deviceNotActive = false) : Exception(message)
{
    /// <summary>Whether QMP reports this as DeviceNotActive (block-job-* on an unknown id) rather than GenericError.</summary>
    public bool DeviceNotActive { get; } = deviceNotActive;
}
