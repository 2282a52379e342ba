using DataPlane.IO.Pcap;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Pipeline;

namespace DataPlane.IO.Verify;

/// <summary>
/// <c>verify</c> without <c>--node</c>: which of the cluster's nodes took the capture. A node's own capture is full
/// of its addresses and its pods' (its pod CIDR): every NodePort connection is addressed to it, every pod's traffic
/// comes from its range. The node most frames touch is taken; the first node when none is touched.
/// </summary>
public static class CaptureNode
{
    /// <summary>Frames read to decide: enough for any capture's mix, a bounded cost on a huge one.</summary>
    public const int SampleFrames = 200_000;

    public static (string? Node, long Touching, long Read) Guess(IReadOnlyList<string> captures, IReadOnlyList<Node> nodes)
    {
        if (nodes.Count <= 1) return (nodes.Count == 1 ? nodes[0].Name : null, 0, 0);
        var hits = new long[nodes.Count];
        var buffer = new byte[CaptureReader.MaxRecordLength + LinkLayer.MaxGrowth];
        long read = 0;
        using var capture = new MergedCapture(captures);
        while (read < SampleFrames && capture.TryRead(out ReadOnlySpan<byte> data, out _, out LinkType link, out _))
        {
            read++;
            if (LinkLayer.ToEthernet(link, data, buffer, out int length) is LinkFrameKind.Unsupported or LinkFrameKind.Truncated) continue;
            FrameKey k = FrameKey.Read(buffer.AsSpan(0, length));
            if (!k.IsIpv4) continue;
            for (int i = 0; i < nodes.Count; i++)
                if (Touches(nodes[i], k.Src) || Touches(nodes[i], k.Dst)) hits[i]++;
        }
        int best = 0;
        for (int i = 1; i < nodes.Count; i++)
            if (hits[i] > hits[best]) best = i;
        return hits[best] == 0 ? (null, 0, read) : (nodes[best].Name, hits[best], read);
    }

    static bool Touches(Node n, uint address) =>
        n.Addresses.Any(a => a.IP == address) || n.PodCIDRs.Any(c => c.Contains(address)) || n.PodCIDR is { } p && p.Contains(address);
}
