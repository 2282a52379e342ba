using DataPlane.Packets;

namespace DataPlane.Pipeline;

/// <summary>
/// The TCP and UDP ports the node itself serves on its addresses (sshd, the kubelet, kube-proxy's health check...):
/// traffic to a node address on any other port, and on no service, gets the node's own answer (TCP RST, ICMP port
/// unreachable) the way a Linux host with nothing listening answers. Immutable; one bit per port and protocol.
/// </summary>
public sealed class HostPortSet
{
    readonly ulong[] _tcp = new ulong[1024], _udp = new ulong[1024];

    /// <summary>What a kubeadm-style node listens on, on its node address: sshd (22/tcp), the kubelet API (10250/tcp),
    /// kube-proxy's health check (10256/tcp). The kubelet's healthz (10248) and kube-proxy's metrics (10249) bind
    /// 127.0.0.1 by default; NodePorts and healthCheckNodePorts are served by their frontends, not listed here.</summary>
    public const string DefaultSpec = "22/tcp,10250/tcp,10256/tcp";

    public static HostPortSet Default { get; } = Parse(DefaultSpec);

    /// <summary>No host port: every unserved node port is answered (tests).</summary>
    public static HostPortSet None { get; } = new();

    /// <summary>Every port served: the old behaviour, traffic to node addresses on no service passes untouched.</summary>
    public static HostPortSet All { get; } = Parse("1-65535/tcp,1-65535/udp");

    public bool Serves(byte proto, ushort port)
    {
        ulong[] bits = proto == IpProto.Tcp ? _tcp : proto == IpProto.Udp ? _udp : null!;
        return bits is null || (bits[port >> 6] & (1UL << (port & 63))) != 0;
    }

    /// <summary>"22/tcp,10250/tcp,53/udp,30000-30100/tcp" (a missing protocol means tcp); "none" for no port.</summary>
    public static bool TryParse(string spec, out HostPortSet set, out string error)
    {
        set = new HostPortSet();
        error = "";
        if (spec.Trim() is "none" or "") return true;
        foreach (string raw in spec.Split(','))
        {
            string item = raw.Trim();
            string[] pp = item.Split('/');
            string proto = pp.Length == 2 ? pp[1].ToLowerInvariant() : "tcp";
            string[] range = pp[0].Split('-');
            if (pp.Length > 2 || proto is not ("tcp" or "udp") || range.Length > 2
                || !ushort.TryParse(range[0], out ushort lo) || lo == 0
                || !ushort.TryParse(range[^1], out ushort hi) || hi < lo)
            {
                error = $"'{item}' is not PORT[-PORT][/tcp|/udp]";
                return false;
            }
            ulong[] bits = proto == "tcp" ? set._tcp : set._udp;
            for (int p = lo; p <= hi; p++) bits[p >> 6] |= 1UL << (p & 63);
        }
        return true;
    }

    public static HostPortSet Parse(string spec) =>
        TryParse(spec, out HostPortSet s, out string e) ? s : throw new FormatException(e);
}
