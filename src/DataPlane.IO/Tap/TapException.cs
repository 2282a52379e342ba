namespace DataPlane.IO.Tap;

/// <summary>
/// A TAP device fault (cannot open, attach or keep reading the device), with the errno that caused it and a message
/// that says what to do. An <see cref="IOException"/>, so the CLI's edge turns it into one line and exit code 1.
/// </summary>
public sealed class TapException(string message, int errno = 0) : IOException(message)
{
    /// <summary>The libc errno behind the fault; 0 when it is a check of ours (e.g. a device that is not persistent).</summary>
    public int Errno { get; } = errno;
}
