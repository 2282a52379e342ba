using System.Runtime.CompilerServices;
using DataPlane.IO.Pcap;
using DataPlane.Maps;
using DataPlane.Pipeline;

namespace DataPlane.IO.Replay;

/// <summary>
/// <c>replay --backends follow</c>: one pass over the capture before the replay, collecting the backend each
/// connection to a service reached, as the node's capture shows it:
/// <list type="bullet">
/// <item>a reply arriving for the connection's client address and port from anywhere but the service address (the
/// backend answering, before the node's reverse NAT);</item>
/// <item>a Linux cooked capture's outgoing copy of the client's packet sent elsewhere than the service address (the
/// packet after the node's DNAT, its source kept).</item>
/// </list>
/// A masqueraded connection's copies and replies carry the node's address and a new port instead of the client's, so
/// nothing ties them to the connection here: such connections are drawn as without the option. Frontends are those
/// of the generation the replay starts with.
/// </summary>
public static class BackendEvidence
{
    /// <summary>Client connections remembered while scanning: bounds the pass's memory whatever the capture's size.</summary>
    public const int MaxConnections = 1 << 20;

    public static BackendHints Scan(string path, MapSet maps)
    {
        var hints = new BackendHints();
        var clients = new Dictionary<(byte Proto, uint Ip, ushort Port), (uint Ip, ushort Port)>();
        var buffer = new byte[CaptureReader.MaxRecordLength + LinkLayer.MaxGrowth];
        using var reader = new CaptureReader(path);
        while (TryRead(reader, out CaptureFrame f))
        {
            LinkFrameKind kind = LinkLayer.ToEthernet(f.LinkType, f.Data, buffer, out int length);
            if (kind == LinkFrameKind.Unsupported) continue;
            FrameKey k = FrameKey.Read(buffer.AsSpan(0, length));
            if (!k.IsIpv4 || !k.HasPorts) continue;
            if (kind == LinkFrameKind.Received)
            {
                if (IsFrontend(maps, k.Dst, k.DstPort, k.Proto))
                {
                    if (clients.Count < MaxConnections || clients.ContainsKey((k.Proto, k.Src, k.SrcPort)))
                        clients[(k.Proto, k.Src, k.SrcPort)] = (k.Dst, k.DstPort);
                }
                else if (clients.TryGetValue((k.Proto, k.Dst, k.DstPort), out var svc) && (k.Src, k.SrcPort) != svc)
                    hints.Add(new BackendHints.Connection(k.Proto, k.Dst, k.DstPort, svc.Ip, svc.Port), f.TimestampNs, k.Src, k.SrcPort);
            }
            else if (clients.TryGetValue((k.Proto, k.Src, k.SrcPort), out var svc) && (k.Dst, k.DstPort) != svc)
                hints.Add(new BackendHints.Connection(k.Proto, k.Src, k.SrcPort, svc.Ip, svc.Port), f.TimestampNs, k.Dst, k.DstPort);
        }
        return hints;
    }

    /// <summary>Either scope: a two-scope service's internal entry (scope 1) is a frontend too.</summary>
    internal static bool IsFrontend(MapSet maps, uint address, ushort port, byte proto) =>
        !Unsafe.IsNullRef(ref maps.Frontend(new Lb4Key(address, port, proto))) ||
        !Unsafe.IsNullRef(ref maps.Frontend(new Lb4Key(address, port, proto, 1)));

    /// <summary>A corrupt record ends the scan; the replay itself reports it.</summary>
    static bool TryRead(CaptureReader reader, out CaptureFrame f)
    {
        try
        {
            return reader.TryRead(out f);
        }
        catch (CaptureFormatException)
        {
            f = default;
            return false;
        }
    }
}

/// <summary><c>replay --backends</c>: how a new connection's backend is chosen.</summary>
public enum BackendMode
{
    /// <summary>Drawn, as the data plane does (the default).</summary>
    Draw,
    /// <summary>The one the capture shows, when it is a usable endpoint (<see cref="BackendEvidence"/>); drawn otherwise.</summary>
    Follow,
}
