namespace Qmp.Img;

/// <summary>One <c>-o</c> option a format accepts (QEMU's QemuOptDesc): how its value parses and what <c>Formatting …</c> shows by default.</summary>
internal sealed record CreateOption(string Name, CreateOptionType Type, string? Default = null);
