namespace Qmp.Img;

/// <summary>Parses --output as qemu-img does (an error_report and exit 1 for anything but human or json).</summary>
internal static class OutputFormats
{
    public static OutputFormat Parse(string? text) => text switch
    {
        null or "human" => OutputFormat.Human,
        "json" => OutputFormat.Json,
        _ => throw new ImgException("--output must be used with human or json as argument."),
    };
}
