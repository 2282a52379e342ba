using System.Text.Json;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.IO.Verdicts;

/// <summary>
/// One JSON line per input frame:
/// <c>{"frame":N,"verdict":"forward|drop|pass|reject|local|answer|reassembled","reason":null|"…","in":{"proto","src","dst"}|null,
/// "out":{…}|null,"service":"ns/name:port"|null,"backend":"ip:port"|null[,"released_by":M|"reassembled_into":M]}</c>.
/// A reused <see cref="Utf8JsonWriter"/> over a buffered stream: the edge formats strings, the pipeline never does.
/// </summary>
public sealed class VerdictWriter : IDisposable
{
    readonly Stream _stream;
    readonly Utf8JsonWriter _json;
    static readonly byte[] s_newline = "\n"u8.ToArray();

    public VerdictWriter(Stream stream)
    {
        _stream = stream;
        _json = new Utf8JsonWriter(stream, new JsonWriterOptions { SkipValidation = false });
    }

    public static VerdictWriter Create(string path) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16));

    /// <summary>
    /// Writes frame <paramref name="frame"/>'s line. <paramref name="leftHoldWith"/>: for a fragment that waited in the
    /// fragment hold, the frame it left with, written last as <c>"released_by"</c> (the first fragment that released
    /// it) or <c>"reassembled_into"</c> (the fragment whose reassembled datagram absorbed it, verdict reassembled).
    /// </summary>
    public void Write(long frame, in PacketResult r, MapSet maps, long leftHoldWith = 0)
    {
        _json.Reset(_stream);
        _json.WriteStartObject();
        _json.WriteNumber("frame", frame);
        _json.WriteString("verdict", r.Verdict.Name());
        if (r.Reason == DropReason.None) _json.WriteNull("reason");
        else _json.WriteString("reason", r.Reason.Name());
        if (r.HasTuple)
        {
            _json.WriteStartObject("in");
            WriteTuple(r.Proto, r.InSrcIp, r.InSrcPort, r.InDstIp, r.InDstPort);
            _json.WriteEndObject();
        }
        else _json.WriteNull("in");
        if (r.HasOut)
        {
            _json.WriteStartObject("out");
            byte outProto = r.Verdict == Verdict.Reject ? (r.OutProto != 0 ? r.OutProto : IpProto.Icmp) : r.Proto;
            WriteTuple(outProto, r.OutSrcIp, r.OutSrcPort, r.OutDstIp, r.OutDstPort);
            _json.WriteEndObject();
        }
        else _json.WriteNull("out");
        string? service = ServiceName(r, maps);
        if (service is null) _json.WriteNull("service");
        else _json.WriteString("service", service);
        if (r.Verdict == Verdict.Forward && r.RevNatIndex != 0) _json.WriteString("backend", Ip4.Format(r.Backend.Address, r.Backend.Port));
        else _json.WriteNull("backend");
        if (leftHoldWith != 0) _json.WriteNumber(r.Verdict == Verdict.Reassembled ? "reassembled_into" : "released_by", leftHoldWith);
        _json.WriteEndObject();
        _json.Flush();
        _stream.Write(s_newline);
    }

    void WriteTuple(byte proto, uint src, ushort sport, uint dst, ushort dport)
    {
        _json.WriteString("proto", IpProto.Name(proto));
        bool ports = proto is IpProto.Tcp or IpProto.Udp or IpProto.Sctp;
        _json.WriteString("src", ports ? Ip4.Format(src, sport) : Ip4.Format(src));
        _json.WriteString("dst", ports ? Ip4.Format(dst, dport) : Ip4.Format(dst));
    }

    /// <summary>The service a frame was attributed to. Names live in the generation (ids can be reused by a later one).</summary>
    public static string? ServiceName(in PacketResult r, MapSet maps) =>
        maps.ServiceName(r.RevNatIndex);

    public void Dispose()
    {
        _json.Dispose();
        _stream.Dispose();
    }
}
