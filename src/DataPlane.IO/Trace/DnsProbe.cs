using System.Text.Json;
using System.Text.Json.Nodes;
using DataPlane.Dns;
using DataPlane.Maps;
using DataPlane.Packets;
using DataPlane.Pipeline;

namespace DataPlane.IO.Trace;

/// <summary>
/// Asks the cluster DNS the way a client does: each query is a real frame (UDP, or a TCP handshake whose third ACK
/// carries the length-prefixed query) sent through a pipeline whose DNS stage answers, and the response frame is decoded.
/// </summary>
public sealed class DnsProbe : IDisposable
{
    readonly PacketPipeline _pipeline;
    readonly DnsZone _zone;
    readonly uint _src;
    readonly bool _tcp;
    readonly byte[] _frame = new byte[1600];
    readonly byte[] _reply = new byte[1536];
    ushort _id = 1;
    const long Now = 1_000_000_000;

    /// <summary>A client at <paramref name="src"/> asking <paramref name="zone"/>'s address, over TCP when <paramref name="tcp"/>.</summary>
    public DnsProbe(DnsZone zone, uint src, bool tcp)
    {
        _zone = zone;
        _src = src;
        _tcp = tcp;
        MapSet maps = new MapSetBuilder(new NodeInfo("dns-client", src, [src], null, [])) { Dns = zone }.Build(1);
        _pipeline = new PacketPipeline(new MapSetHolder(maps), new PipelineOptions { CtCapacity = 16 });
    }

    /// <summary>The decoded response, or null when the pipeline did not answer. Throws <see cref="TraceInputException"/> for a name that cannot be put on the wire.</summary>
    public DnsMessage? Ask(string name, ushort type)
    {
        if (!DnsName.TryToWire(name, out _, out string? error)) throw new TraceInputException($"'{name}': {error}");
        ushort id = _id++;
        byte[] q = DnsMessage.BuildQuery(name, type, id);
        ushort sport = (ushort)(40000 + id);
        int len;
        if (_tcp)
        {
            // A real connection (the server checks the handshake): SYN, then the third ACK carrying the query.
            const uint isn = 1000;
            len = DnsFrames.Syn(_frame, _src, sport, _zone.Address, isn);
            if (_pipeline.Process(_frame.AsSpan(0, len), Now, _reply, out PacketResult syn) != Verdict.Answer) return null;
            uint serverIsn = DnsFrames.TcpSeq(_reply.AsSpan(0, syn.OutLength));
            len = DnsFrames.Tcp(_frame, _src, sport, _zone.Address, q, isn + 1, serverIsn + 1);
        }
        else len = DnsFrames.Udp(_frame, _src, sport, _zone.Address, q);
        Verdict v = _pipeline.Process(_frame.AsSpan(0, len), Now, _reply, out PacketResult r);
        if (v != Verdict.Answer) return null;
        return DnsMessage.Decode(DnsFrames.Payload(_reply.AsSpan(0, r.OutLength)));
    }

    /// <summary>One line of a <c>dns --batch</c> file: <c>{"qname","qtype"}</c> (qtype default A); errors name file and line.</summary>
    public static (string Name, ushort Type) ParseBatchLine(string file, int line, string text)
    {
        try
        {
            // "null" parses to no node at all: not an object either.
            var o = JsonNode.Parse(text)?.AsObject() ?? throw new TraceInputException($"{file}:{line}: not a JSON object: null");
            string qname = (string?)o["qname"] ?? throw new TraceInputException($"{file}:{line}: no \"qname\"");
            string tname = (string?)o["qtype"] ?? "A";
            ushort t = DnsType.Parse(tname);
            return t == 0 ? throw new TraceInputException($"{file}:{line}: '{tname}' is not a record type") : (qname, t);
        }
        catch (JsonException e) { throw new TraceInputException($"{file}:{line}: not a JSON object: {e.Message}"); }
        catch (InvalidOperationException e) { throw new TraceInputException($"{file}:{line}: {e.Message}"); }
    }

    /// <summary>Releases the probe pipeline's native conntrack table.</summary>
    public void Dispose() => _pipeline.Dispose();
}
