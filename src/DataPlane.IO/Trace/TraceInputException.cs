namespace DataPlane.IO.Trace;

/// <summary>
/// A probe the data plane cannot be asked about: an address that is not ip[:port], a protocol or record type it does
/// not know, a batch line that is not a JSON object. The CLI shows it as one error line, like a bad option.
/// </summary>
public sealed class TraceInputException(string message) : Exception(message);
