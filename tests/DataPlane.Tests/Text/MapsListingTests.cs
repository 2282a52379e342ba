using DataPlane.Kubernetes.Manifests;
using DataPlane.IO.Text;
using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Compiler;
using DataPlane.Tests.Kubernetes;

namespace DataPlane.Tests.Text;

/// <summary><c>maps</c>' listing of <see cref="TextWorld"/> compiled for node-1, in process, written out by hand.</summary>
public class MapsListingTests
{
    [Fact]
    public void The_service_map_lists_each_frontend_with_its_slots_then_reverse_nat_then_the_ranges()
    {
        var w = new TextWorld();
        var o = new StringWriter { NewLine = "\n" };
        MapsListing.Write(o, w.Maps, w.Manifests, w.Topology);
        // Frontends by rev-NAT id, then address: the cluster's own services first (default/kubernetes to the control
        // plane's 6443; kube-system/kube-dns without endpoints, at 10.96.0.2 since web.yaml writes 10.96.0.10 itself);
        // the NodePort's loopback and node-address frontends share web's id with its cluster IP; the endpoint is on
        // this node (local); affinity shows its timeout. No topology section: no hints.
        Assert.Equal("""
            SERVICE ADDRESS                BACKEND ADDRESS (REVNAT_ID) (SLOT)
            10.96.0.1:443/TCP              0.0.0.0:0 (1) (0) [ClusterIp, MasqueradeOffCluster]  default/kubernetes:https
                                           192.168.0.2:6443/TCP (1) (1)
            10.96.0.2:53/UDP               0.0.0.0:0 (2) (0) [ClusterIp, MasqueradeOffCluster]  kube-system/kube-dns:dns
            10.96.0.2:53/TCP               0.0.0.0:0 (3) (0) [ClusterIp, MasqueradeOffCluster]  kube-system/kube-dns:dns-tcp
            10.96.0.2:9153/TCP             0.0.0.0:0 (4) (0) [ClusterIp, MasqueradeOffCluster]  kube-system/kube-dns:metrics
            10.96.0.10:80/TCP              0.0.0.0:0 (5) (0) [ClusterIp, MasqueradeOffCluster]  default/web:http
                                           10.244.1.2:8080/TCP (5) (1) local
            127.0.0.1:30080/TCP            0.0.0.0:0 (5) (0) [NodePort, MasqueradeAll, LocalAddress]  default/web:http
                                           10.244.1.2:8080/TCP (5) (1) local
            192.168.0.2:30080/TCP          0.0.0.0:0 (5) (0) [NodePort, MasqueradeAll, LocalAddress]  default/web:http
                                           10.244.1.2:8080/TCP (5) (1) local
            10.96.0.30:80/TCP              0.0.0.0:0 (6) (0) [ClusterIp, MasqueradeOffCluster]  default/empty:80
            10.96.0.70:53/UDP              0.0.0.0:0 (7) (0) [ClusterIp, MasqueradeOffCluster, Affinity] affinity=30s  default/sticky:53
                                           10.244.1.2:5353/UDP (7) (1) local

            REVNAT_ID  FRONTEND                 SERVICE
            1          10.96.0.1:443/TCP        default/kubernetes:https
            2          10.96.0.2:53/UDP         kube-system/kube-dns:dns
            3          10.96.0.2:53/TCP         kube-system/kube-dns:dns-tcp
            4          10.96.0.2:9153/TCP       kube-system/kube-dns:metrics
            5          10.96.0.10:80/TCP        default/web:http
            6          10.96.0.30:80/TCP        default/empty:80
            7          10.96.0.70:53/UDP        default/sticky:53

            SERVICE CIDRS  10.96.0.0/12 (kube-apiserver's default, which holds every written cluster IP)
            CLUSTER CIDR   10.244.0.0/16 (KubeProxyConfiguration clusterCIDR)
            PROXY MODE     iptables

            """.ReplaceLineEndings("\n"), o.ToString());
    }

    [Fact]
    public void Ipvs_mode_says_it_is_emulated_and_no_cluster_cidr_line_without_one()
    {
        using var dir = new ManifestDirectory();
        ClusterManifests m = ManifestLoader.Load(dir.Write("w.yaml",
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\n"));
        var o = new StringWriter { NewLine = "\n" };
        MapsListing.WriteCidrs(o, m);
        Assert.Equal("\nSERVICE CIDRS  10.96.0.0/12 (kube-apiserver's default: no cluster IP is written)\n" +
                     "PROXY MODE     ipvs (emulated with iptables semantics)\n", o.ToString());
    }
}
