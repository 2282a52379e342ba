using System.Text.Json;
using System.Text.Json.Nodes;
using DataPlane.Kubernetes.Explain;
using DataPlane.Packets;

namespace DataPlane.IO.Trace;

/// <summary>
/// The first packet of a new connection that <c>trace</c> sends: protocol, source and destination. Built from the
/// user's text: a destination may be a Service name, resolved to its cluster IP the way cluster DNS would.
/// </summary>
public readonly record struct TraceRequest(byte Proto, uint Src, ushort SrcPort, uint Dst, ushort DstPort)
{
    /// <summary>The source port when --src gives none: an ephemeral port, as a client's connect() would pick.</summary>
    public const ushort DefaultSourcePort = 40000;

    /// <summary>
    /// Parses a source ip[:port], a destination ip:port or service:port (an address alone for icmp) and a protocol
    /// name. False, with <paramref name="unresolved"/> saying why, for a name that is no proxied Service (headless,
    /// ExternalName, unknown): there is nothing to send; when true for a name, <paramref name="unresolved"/> says how it
    /// resolved (null for an address). Throws <see cref="TraceInputException"/> (prefixed with
    /// <paramref name="where"/>) for text that is no address at all.
    /// </summary>
    public static bool TryParse(string src, string dst, string proto, string where, Explainer? explainer, out TraceRequest req, out string? unresolved)
    {
        req = default;
        unresolved = null;
        byte p = proto switch
        {
            "tcp" => IpProto.Tcp,
            "udp" => IpProto.Udp,
            "sctp" => IpProto.Sctp,
            "icmp" => IpProto.Icmp,
            _ => throw new TraceInputException($"{where}: proto '{proto}' is not tcp, udp, sctp or icmp"),
        };
        if (!Ip4.TryParseEndpoint(src, out uint s, out ushort sp)) throw new TraceInputException($"{where}: '{src}' is not ip[:port]");
        uint d;
        ushort dp = 0;
        if (p == IpProto.Icmp && Ip4.TryParse(dst, out d)) dp = 0;
        else if (!dst.Contains(':') || !Ip4.TryParseEndpoint(dst, out d, out dp))
        {
            // Not an address: a Service name, resolved the way cluster DNS would (or explained when it has no cluster IP).
            int colon = dst.LastIndexOf(':');
            string name = colon > 0 ? dst[..colon] : dst;
            if (explainer is null || name.Length == 0 || char.IsDigit(name[0]) || (p != IpProto.Icmp && (colon < 0 || !ushort.TryParse(dst[(colon + 1)..], out dp))))
                throw new TraceInputException($"{where}: '{dst}' is not ip:port or service:port");
            if (p == IpProto.Icmp) dp = 0;
            if (explainer.Resolve(name, out unresolved) is not uint ip) return false;
            d = ip; // unresolved now says how the name resolved (the caller may show it)
        }
        req = new TraceRequest(p, s, p == IpProto.Icmp ? (ushort)0 : src.Contains(':') ? sp : DefaultSourcePort, d, dp);
        return true;
    }

    /// <summary>One line of a <c>--batch</c> file: <c>{"src","dst","proto"}</c> (proto default tcp); errors name file and line.</summary>
    public static TraceRequest ParseBatchLine(string file, int line, string text, Explainer? explainer)
    {
        var (src, dst, proto) = ParseBatchFields(file, line, text);
        if (!TryParse(src, dst, proto, $"{file}:{line}", explainer, out TraceRequest r, out string? why))
            throw new TraceInputException($"{file}:{line}: {why}");
        return r;
    }

    /// <summary>The fields of one <c>--batch</c> line as written (src may name a pod; the caller resolves it).</summary>
    public static (string Src, string Dst, string Proto) ParseBatchFields(string file, int line, string text)
    {
        try
        {
            var o = JsonNode.Parse(text)!.AsObject();
            return ((string?)o["src"] ?? "", (string?)o["dst"] ?? "", (string?)o["proto"] ?? "tcp");
        }
        catch (JsonException e) { throw new TraceInputException($"{file}:{line}: not a JSON object: {e.Message}"); }
        catch (InvalidOperationException e) { throw new TraceInputException($"{file}:{line}: {e.Message}"); }
    }
}
