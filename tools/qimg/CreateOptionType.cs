namespace Qmp.Img;

/// <summary>QemuOptType: how an option value parses (and how it prints in the Formatting line).</summary>
internal enum CreateOptionType
{
    String,
    Bool,
    Number,
    Size,
}
