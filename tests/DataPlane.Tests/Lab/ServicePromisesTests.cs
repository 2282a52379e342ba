using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Resolved;
using DataPlane.Packets;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Lab;

/// <summary>
/// What <c>lab check</c> expects, read from the resolved cluster (no network needed): the promises of the regression
/// cluster's Services for a pod on node-1 and for an external client.
/// </summary>
public sealed class ServicePromisesTests
{
    static readonly uint Pod = Ip4.Parse("10.244.1.254"), External = Ip4.Parse("203.0.113.10");

    static (ServicePromises P, ServiceFrontend F) Frontend(string service, FrontendKind kind)
    {
        ResolvedCluster c = ControlPlane.Resolve(ControlPlane.Load([Repo.Cluster], null, null));
        var p = new ServicePromises(c, "node-1");
        return (p, p.Frontends.First(f => f.Service.Key == service && f.Kind == kind));
    }

    [Fact]
    public void External_traffic_policy_local_keeps_an_external_client_on_local_endpoints_and_a_pod_on_every_endpoint()
    {
        var (p, f) = Frontend("default/local-web", FrontendKind.NodePort);
        ServicePromise ext = p.For(f, External);
        Assert.Equal(PromisedOutcome.Served, ext.Outcome);
        Assert.True(ext.ClientAddressKept);
        Assert.All(ext.Endpoints, e => Assert.StartsWith("10.244.1.", Ip4.Format(e.Address))); // node-1's pod CIDR
        ServicePromise pod = p.For(f, Pod);
        Assert.True(pod.ClientAddressKept);
        Assert.True(pod.Endpoints.Count >= ext.Endpoints.Count);
    }

    [Fact]
    public void External_traffic_policy_cluster_masquerades_and_a_cluster_ip_keeps_a_pod_address()
    {
        var (p, f) = Frontend("default/web", FrontendKind.NodePort);
        Assert.False(p.For(f, External).ClientAddressKept);
        Assert.False(p.For(f, Pod).ClientAddressKept);
        var (p2, vip) = Frontend("default/web", FrontendKind.ClusterIP);
        Assert.True(p2.For(vip, Pod).ClientAddressKept);
        Assert.False(p2.For(vip, External).ClientAddressKept); // outside the cluster CIDR: masqueraded
    }

    [Fact]
    public void No_endpoints_is_refused_and_session_affinity_promises_one_endpoint()
    {
        var (p, f) = Frontend("default/empty", FrontendKind.ClusterIP);
        Assert.Equal(PromisedOutcome.Refused, p.For(f, Pod).Outcome);
        var (p2, sticky) = Frontend("default/sticky", FrontendKind.ClusterIP);
        Assert.True(p2.For(sticky, Pod).OneEndpoint);
    }
}
