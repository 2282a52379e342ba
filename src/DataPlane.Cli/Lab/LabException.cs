namespace DataPlane.Cli.Lab;

/// <summary>A lab step that failed: one line, naming the command or the missing piece.</summary>
public sealed class LabException(string message) : Exception(message);
