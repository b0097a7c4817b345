namespace Qmp.Img;

/// <summary>--output=human|json.</summary>
internal enum OutputFormat
{
    Human,
    Json,
}
