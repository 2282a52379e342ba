using System.Buffers.Binary;
using DataPlane.FixtureBuilder;
using DataPlane.IO.Pcap;
using static DataPlane.FixtureBuilder.Frames;

namespace DataPlane.Tests.Verify;

/// <summary>
/// Writes what <c>tcpdump -i any</c> on a node records (LINUX_SLL2: packet type HOST for what arrives, OUTGOING for
/// what the node sends), built frame by frame with PacketDotNet (its own checksum code), independently of the data
/// plane: each exchange is told as the node handled it, including the ways a broken node mishandles it.
/// </summary>
sealed class NodeCapture
{
    const byte PacketHost = 0, PacketOutgoing = 4;
    readonly List<(byte[] Record, long Ts)> _records = [];
    long _ns = 1_000_000_000;
    ushort _id = 100;

    /// <summary>Frame numbers as verify counts them (1-based), of the last frames added.</summary>
    public int Count => _records.Count;

    public void In(byte[] ethernet, int ifIndex = 2) => Add(PacketHost, ifIndex, ethernet);
    public void Out(byte[] ethernet, int ifIndex = 3) => Add(PacketOutgoing, ifIndex, ethernet);

    void Add(byte type, int ifIndex, byte[] ethernet)
    {
        byte[] ip = ethernet[14..];
        var rec = new byte[20 + ip.Length];
        BinaryPrimitives.WriteUInt16BigEndian(rec, 0x0800);
        BinaryPrimitives.WriteInt32BigEndian(rec.AsSpan(4), ifIndex);
        BinaryPrimitives.WriteUInt16BigEndian(rec.AsSpan(8), 1); // ARPHRD_ETHER
        rec[10] = type;
        rec[11] = 6;
        NodeMac.GetAddressBytes().CopyTo(rec, 12);
        ip.CopyTo(rec, 20);
        _records.Add((rec, _ns));
        _ns += 50_000; // 50 µs apart
    }

    public string Write(string path)
    {
        using var w = new CaptureWriter(path, linkType: LinkType.LinuxSll2);
        foreach (var (rec, ts) in _records) w.Write(rec, ts);
        return path;
    }

    /// <summary>Changes the node's handling of one leg of an exchange.</summary>
    public sealed record Broken
    {
        /// <summary>TTL of the node's copy of the client's first packet (null: arrived − 1).</summary>
        public byte? ForwardTtl { get; init; }
        /// <summary>The node's copy of the client's first packet leaves with a wrong TCP checksum.</summary>
        public bool BadChecksum { get; init; }
        /// <summary>The node's copy of the backend's answer leaves with the backend's address as its source.</summary>
        public bool NoReverseNat { get; init; }
        /// <summary>The node sends nothing for the client's SYN (and so nothing comes back).</summary>
        public bool Dropped { get; init; }
    }

    /// <summary>
    /// A TCP handshake from <paramref name="client"/>:<paramref name="cport"/> to the frontend, which the node sends
    /// to <paramref name="backend"/> from <paramref name="src"/> (the client, or its masquerade address and port), the
    /// backend's SYN-ACK and the client's ACK, each seen arriving and leaving. Returns the frame numbers of the node's
    /// copies: client → backend (SYN), backend → client (SYN-ACK), client → backend (ACK).
    /// </summary>
    public (int Syn, int SynAck, int Ack) Tcp(string client, ushort cport, string frontend, ushort fport, string backend, ushort bport,
        (string Ip, ushort Port)? src = null, Broken? broken = null)
    {
        broken ??= new Broken();
        var (sIp, sPort) = src ?? (client, cport);
        ushort id1 = _id++, id2 = _id++, id3 = _id++;
        In(TcpFrame(client, cport, frontend, fport, Frames.Tcp.Syn, 1000, 0, ttl: 64, id: id1));
        if (broken.Dropped) return (0, 0, 0); // nothing reached the backend, so nothing came back
        int syn = 0;
        {
            byte[] f = TcpFrame(sIp, sPort, backend, bport, Frames.Tcp.Syn, 1000, 0, ttl: broken.ForwardTtl ?? 63, id: id1);
            if (broken.BadChecksum) f[14 + 20 + 16] ^= 0x5A;
            Out(f);
            syn = Count;
        }
        In(TcpFrame(backend, bport, sIp, sPort, Frames.Tcp.Syn | Frames.Tcp.Ack, 5000, 1001, ttl: 64, id: id2));
        if (broken.NoReverseNat) Out(TcpFrame(backend, bport, client, cport, Frames.Tcp.Syn | Frames.Tcp.Ack, 5000, 1001, ttl: 63, id: id2));
        else Out(TcpFrame(frontend, fport, client, cport, Frames.Tcp.Syn | Frames.Tcp.Ack, 5000, 1001, ttl: 63, id: id2));
        int synAck = Count;
        In(TcpFrame(client, cport, frontend, fport, Frames.Tcp.Ack, 1001, 5001, ttl: 64, id: id3));
        Out(TcpFrame(sIp, sPort, backend, bport, Frames.Tcp.Ack, 1001, 5001, ttl: 63, id: id3));
        return (syn, synAck, Count);
    }
}
