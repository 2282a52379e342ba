using System.Buffers.Binary;

namespace DataPlane.Packets;

/// <summary>
/// SCTP (RFC 9260 §3): the 12-byte common header (source port, destination port, verification tag, CRC32c checksum)
/// followed by chunks, each a 4-byte header (type, flags, length) and a value padded to 4 bytes. Offsets relative to
/// the start of the SCTP packet; chunk offsets relative to the chunk.
/// </summary>
public static class Sctp
{
    public const int SrcPortOffset = 0;   // same place as TCP/UDP: the shared port rewrite applies
    public const int DstPortOffset = 2;
    public const int VerificationTagOffset = 4;
    public const int ChecksumOffset = 8;
    public const int CommonHeaderLength = 12;

    public const int ChunkTypeOffset = 0;
    public const int ChunkFlagsOffset = 1;
    public const int ChunkLengthOffset = 2;
    public const int ChunkHeaderLength = 4;
    /// <summary>INIT and INIT ACK: the Initiate Tag follows the chunk header (RFC 9260 §3.3.2).</summary>
    public const int InitiateTagOffset = 4;

    /// <summary>The smallest packet the pipeline accepts: the common header and one chunk header (RFC 9260 §3).</summary>
    public const int MinLength = CommonHeaderLength + ChunkHeaderLength;

    // Chunk types (RFC 9260 §3.2).
    public const byte Data = 0;
    public const byte Init = 1;
    public const byte InitAck = 2;
    public const byte Sack = 3;
    public const byte Heartbeat = 4;
    public const byte HeartbeatAck = 5;
    public const byte Abort = 6;
    public const byte Shutdown = 7;
    public const byte ShutdownAck = 8;
    public const byte Error = 9;
    public const byte CookieEcho = 10;
    public const byte CookieAck = 11;
    public const byte ShutdownComplete = 14;

    /// <summary>The T bit of ABORT and SHUTDOWN COMPLETE: the verification tag is the sender's own (RFC 9260 §8.5.1).</summary>
    public const byte FlagT = 0x01;

    public static uint VerificationTag(ReadOnlySpan<byte> sctp) => BinaryPrimitives.ReadUInt32BigEndian(sctp.Slice(VerificationTagOffset));

    public static string ChunkName(byte type) => type switch
    {
        Data => "DATA",
        Init => "INIT",
        InitAck => "INIT_ACK",
        Sack => "SACK",
        Heartbeat => "HEARTBEAT",
        HeartbeatAck => "HEARTBEAT_ACK",
        Abort => "ABORT",
        Shutdown => "SHUTDOWN",
        ShutdownAck => "SHUTDOWN_ACK",
        Error => "ERROR",
        CookieEcho => "COOKIE_ECHO",
        CookieAck => "COOKIE_ACK",
        ShutdownComplete => "SHUTDOWN_COMPLETE",
        _ => type.ToString(),
    };
}
