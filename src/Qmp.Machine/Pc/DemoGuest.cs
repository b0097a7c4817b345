namespace Qmp.Machine.Pc;

/// <summary>
/// The demo guest qmpd boots when given no <c>-kernel</c> (tools/guests/demo, built from source
/// by this project's build and embedded): a banner, a heartbeat a second, and a power button.
/// </summary>
internal static class DemoGuest
{
    public static byte[] Image()
    {
        using var stream = typeof(DemoGuest).Assembly.GetManifestResourceStream("Qmp.Machine.Guests.demo.elf")
            ?? throw new MachineOperationException("the built-in demo guest is missing from this build");
        var image = new byte[stream.Length];
        stream.ReadExactly(image);
        return image;
    }
}
