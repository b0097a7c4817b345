namespace Qmp.Img;

/// <summary>
/// QEMU's util/qemu-progress.c (-p): "    (12.34/100%)\r" on stdout whenever the float percentage moved by more
/// than the command's minimum step (or is 0 or 100), and a newline at the end. Single-precision arithmetic,
/// as in QEMU, so the printed steps match.
/// </summary>
internal sealed class Progress(bool enabled, float minSkip)
{
    private float _current;
    private float _lastPrint;

    /// <summary>qemu_progress_print: with <paramref name="max"/> 0, <paramref name="delta"/> is the new percentage; otherwise it adds delta/100*max.</summary>
    public void Print(float delta, int max)
    {
        var current = max == 0 ? delta : _current + (delta / 100 * max);
        if (current > 100)
            current = 100;
        _current = current;
        if (current > _lastPrint + minSkip || current < _lastPrint - minSkip || current == 0 || current == 100)
        {
            _lastPrint = _current;
            if (enabled)
            {
                Terminal.Out.Write($"    ({CFormat.F(current, 2)}/100%)\r");
                Terminal.Out.Flush();
            }
        }
    }

    /// <summary>qemu_progress_end.</summary>
    public void End()
    {
        if (!enabled)
            return;
        Terminal.Out.Write("\n");
        Terminal.Out.Flush();
    }
}
