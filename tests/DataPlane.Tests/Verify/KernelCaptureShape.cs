using DataPlane.FixtureBuilder.Verify;

namespace DataPlane.Tests.Verify;

/// <summary>
/// What a capture made by tests/kernel-captures/make.sh must hold, checked from its bytes with the fixture builder's own
/// reader (<see cref="KernelCapture"/>), not DataPlane's: the link type it claims, both directions of the node, every
/// client connection the script makes with its replies, the kernel's random picks spread over the endpoints, TTL and
/// checksums as the kernel writes them, masquerade under externalTrafficPolicy Cluster and none under Local, and an ICMP
/// error for every packet to the service without endpoints. Used on the kept fixtures and on a fresh run of the script.
/// </summary>
public static class KernelCaptureShape
{
    /// <summary>The pod gateway address MASQUERADE picks when the endpoint is on the node (kernel-behaviour.md).</summary>
    const string PodGateway = "10.244.1.1";

    /// <summary>echo's endpoints in make.sh's cluster.</summary>
    static readonly string[] EchoEndpoints = ["10.244.1.10", "10.244.1.11", "10.244.1.12"];

    public static KernelCapture Check(string dir, uint linkType)
    {
        KernelCapture c = KernelCapture.Read(Path.Combine(dir, "node.pcap"));
        Assert.Equal(linkType, c.LinkType);
        Assert.Contains(c.Frames, f => f.Outgoing);
        Assert.Contains(c.Frames, f => !f.Outgoing);
        foreach (var f in c.Frames)
        {
            Assert.True(f.IpChecksumValid, $"{f}: IP checksum");
            if (f.IsTcpOrUdp) Assert.True(f.L4ChecksumValid, $"{f}: {f.Proto} checksum");
        }
        foreach (var (i, o) in c.Pairs) Assert.True(o.Ttl == i.Ttl - 1, $"{o}: TTL {o.Ttl} after {i.Ttl}");

        foreach (var k in c.Connections)
            Assert.True(AlteredCaptures.ServiceOf.ContainsKey($"{k.Proto} {k.Frontend}"), $"{k}: a connection the script does not make");
        var byService = c.Connections.GroupBy(k => AlteredCaptures.ServiceOf[$"{k.Proto} {k.Frontend}"]).ToDictionary(g => g.Key, g => g.ToList());

        foreach (string svc in new[] { "default/echo", "default/web-cluster", "default/web-local" })
        {
            var tcp = byService[$"{svc}:http"];
            var udp = byService[$"{svc}:dns"];
            // 6 TCP connections and 3 UDP exchanges from the pod and as many from outside.
            Assert.True(tcp.Count >= 12, $"{svc}:http: {tcp.Count} TCP connections");
            Assert.True(udp.Count >= 6, $"{svc}:dns: {udp.Count} UDP exchanges");
            foreach (var k in tcp.Concat(udp))
            {
                Assert.True(k.Backend is not null, $"{k}: never forwarded");
                Assert.True(k.Replies.Count > 0, $"{k}: no reply came back through the node");
                Assert.True(k.Forward.All(p => p.Out.Dst == k.Backend), $"{k}: one connection, several backends");
            }
            foreach (var k in tcp) Assert.True(k.Forward.Count >= 4 && k.Replies.Count >= 3, $"{k}: {k.Forward.Count} out, {k.Replies.Count} back: not a whole connection");
        }

        // The kernel's random picks reached more than one endpoint of the three-endpoint service (a 3 * 3^-12 chance to fail).
        var echoBackends = byService["default/echo:http"].Select(k => k.BackendIp).Distinct().ToList();
        Assert.True(echoBackends.Count >= 2, $"default/echo:http: every connection went to {string.Join(", ", echoBackends)}");
        foreach (var k in byService["default/echo:http"].Concat(byService["default/echo:dns"]))
            Assert.Contains(k.BackendIp, EchoEndpoints);

        foreach (var k in c.Connections.Where(k => k.Backend is not null))
        {
            string service = AlteredCaptures.ServiceOf[$"{k.Proto} {k.Frontend}"];
            bool external = k.Client.StartsWith("203.0.113.7:", StringComparison.Ordinal);
            bool nodePort = k.Frontend.StartsWith(AlteredCaptures.NodeIp + ":", StringComparison.Ordinal);
            bool masqueraded = !k.SentSource!.Equals(k.Client, StringComparison.Ordinal);
            if (service.StartsWith("default/web-local:", StringComparison.Ordinal))
                Assert.False(masqueraded, $"{k}: externalTrafficPolicy Local, yet masqueraded");
            else if (nodePort || external)
            {
                Assert.True(masqueraded, $"{k}: should be masqueraded");
                Assert.StartsWith(PodGateway + ":", k.SentSource);
            }
            else Assert.False(masqueraded, $"{k}: pod to ClusterIP, yet masqueraded");
        }

        // The service without endpoints: nothing forwarded, and every packet answered by ICMP port unreachable.
        var empty = byService["default/empty:http"].Concat(byService["default/empty:dns"]).ToList();
        Assert.True(empty.Count(k => k.Proto == "tcp") >= 6 && empty.Count(k => k.Proto == "udp") >= 4, $"default/empty: {empty.Count} connections");
        foreach (var k in empty)
        {
            Assert.True(k.Backend is null, $"{k}: forwarded although empty has no endpoints");
            Assert.True(k.Unforwarded.Count > 0 && k.IcmpErrors.Count == k.Unforwarded.Count, $"{k}: {k.Unforwarded.Count} packets, {k.IcmpErrors.Count} ICMP errors");
            Assert.All(k.IcmpErrors, e => Assert.Equal((3, 3), e.Icmp));
        }
        return c;
    }
}
