using DataPlane.Kubernetes.Compiler;

using DataPlane.Kubernetes.Manifests;
using DataPlane.Packets;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Kubernetes;

/// <summary>
/// The Pod-based EndpointSlice controller: which pods become endpoints, their conditions, per-pod named targetPort
/// resolution and slice grouping (upstream k8s.io/endpointslice reconciler and FindPort).
/// </summary>
public class EndpointsControllerTests
{
    const string Nodes = TestManifests.TwoNodes;

    static string Pod(string name, string ip, string labels = "{app: web}", string ns = "default", string node = "node-1",
        bool ready = true, string phase = "Running", string extraMeta = "", string ports = "[]", string extraSpec = "") => $$"""
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: {{name}}, namespace: {{ns}}, labels: {{labels}}{{extraMeta}}}
        spec: {nodeName: {{node}}, containers: [{name: c, ports: {{ports}}}]{{extraSpec}}}
        status: {phase: {{phase}}, podIP: {{ip}}, conditions: [{type: Ready, status: "{{(ready ? "True" : "False")}}"}]}

        """;

    const string Web = """
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: default}
        spec: {clusterIP: 10.96.0.10, selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}]}

        """;

    static (IReadOnlyList<EndpointSlice> Slices, List<string> Warnings) Run(string yaml)
    {
        using var dir = new ManifestDirectory();
        dir.Write("cluster.yaml", Nodes + "\n" + yaml);
        var warnings = new List<string>();
        var slices = EndpointsController.Build(ManifestLoader.Load(dir.Root), warnings.Add);
        return (slices, warnings);
    }

    static string[] Ips(EndpointSlice s) => [.. s.Endpoints.SelectMany(e => e.Addresses).Select(Ip4.Format)];

    [Fact]
    public void Selector_matches_all_pairs_in_the_service_namespace()
    {
        var (slices, _) = Run(
            """
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: default}
            spec: {clusterIP: 10.96.0.10, selector: {app: web, tier: fe}, ports: [{name: http, port: 80, targetPort: 8080}]}

            """
            + Pod("match", "10.244.1.1", "{app: web, tier: fe, extra: x}")
            + Pod("partial", "10.244.1.2", "{app: web}")
            + Pod("wrong-value", "10.244.1.3", "{app: web, tier: be}")
            + Pod("other-ns", "10.244.1.4", "{app: web, tier: fe}", ns: "other")
            + Pod("match-2", "10.244.2.1", "{app: web, tier: fe}", node: "node-2"));

        var slice = Assert.Single(slices);
        Assert.Equal("web-1", slice.Name);
        Assert.Equal("default", slice.Namespace);
        Assert.Equal("web", slice.ServiceName);
        Assert.Equal(EndpointAddressType.IPv4, slice.AddressType);
        Assert.Equal("web", slice.Labels[EndpointsController.ServiceNameLabel]);
        Assert.Equal(EndpointsController.ControllerName, slice.Labels[EndpointsController.ManagedByLabel]);
        Assert.Equal(["10.244.1.1", "10.244.2.1"], Ips(slice));
        Assert.Equal(["node-1", "node-2"], slice.Endpoints.Select(e => e.NodeName));
        var port = Assert.Single(slice.Ports);
        Assert.Equal(new EndpointSlicePort { Name = "http", Port = 8080, Protocol = PortProtocol.TCP }, port);
        Assert.EndsWith("cluster.yaml", slice.SourceFile);
    }

    [Fact]
    public void Services_without_selector_and_ExternalName_services_get_nothing()
    {
        var (slices, _) = Run(
            """
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: manual, namespace: default}
            spec: {clusterIP: 10.96.0.11, ports: [{port: 80}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: empty-selector, namespace: default}
            spec: {clusterIP: 10.96.0.12, selector: {}, ports: [{port: 80}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: ext, namespace: default}
            spec: {type: ExternalName, externalName: example.com, selector: {app: web}}

            """ + Pod("a", "10.244.1.1"));
        Assert.Empty(slices);
    }

    [Fact]
    public void Readiness_terminating_and_phase()
    {
        var (slices, _) = Run(Web
            + Pod("ready", "10.244.1.1")
            + Pod("not-ready", "10.244.1.2", ready: false)
            + Pod("terminating", "10.244.1.3", extraMeta: ", deletionTimestamp: \"2024-01-01T00:00:00Z\"")
            + Pod("terminating-not-ready", "10.244.1.4", ready: false, extraMeta: ", deletionTimestamp: \"2024-01-01T00:00:00Z\"")
            + Pod("succeeded", "10.244.1.5", phase: "Succeeded")
            + Pod("failed", "10.244.1.6", phase: "Failed")
            + Pod("pending", "10.244.1.7", ready: false, phase: "Pending")
            + """
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: no-ip, namespace: default, labels: {app: web}}
            spec: {nodeName: node-1, containers: [{name: c}]}
            status: {phase: Pending}

            """);

        var slice = Assert.Single(slices);
        Assert.Equal(["10.244.1.1", "10.244.1.2", "10.244.1.3", "10.244.1.4", "10.244.1.7"], Ips(slice));
        Assert.Equal(
            [(true, true, false), (false, false, false), (false, true, true), (false, false, true), (false, false, false)],
            slice.Endpoints.Select(e => (e.Ready!.Value, e.Serving!.Value, e.Terminating!.Value)));
    }

    [Fact]
    public void PublishNotReadyAddresses_marks_every_endpoint_ready_and_keeps_pods_on_unknown_nodes()
    {
        var (slices, warnings) = Run(
            """
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: default}
            spec: {clusterIP: 10.96.0.10, publishNotReadyAddresses: true, selector: {app: web}, ports: [{name: http, port: 80}]}

            """
            + Pod("not-ready", "10.244.1.2", ready: false)
            + Pod("terminating", "10.244.1.3", extraMeta: ", deletionTimestamp: \"2024-01-01T00:00:00Z\"")
            + Pod("elsewhere", "10.244.9.1", node: "node-9", ready: false));

        var slice = Assert.Single(slices);
        Assert.Equal(["10.244.1.2", "10.244.1.3", "10.244.9.1"], Ips(slice));
        Assert.All(slice.Endpoints, e => Assert.True(e.Ready));
        Assert.Equal([false, true, false], slice.Endpoints.Select(e => e.Serving!.Value));
        Assert.Equal([false, true, false], slice.Endpoints.Select(e => e.Terminating!.Value));
        Assert.Empty(warnings);
    }

    [Fact]
    public void Pods_on_nodes_missing_from_the_manifests_are_skipped_with_a_warning()
    {
        var (slices, warnings) = Run(Web + Pod("a", "10.244.1.1") + Pod("lost", "10.244.9.1", node: "node-9"));
        Assert.Equal(["10.244.1.1"], Ips(Assert.Single(slices)));
        Assert.Equal(["skipping Pod default/lost for Service default/web: Node 'node-9' not found"], warnings);
    }

    [Fact]
    public void HostNetwork_pods_count_with_their_pod_IP()
    {
        var (slices, _) = Run(Web + Pod("host", "192.168.0.2", extraSpec: ", hostNetwork: true"));
        Assert.Equal(["192.168.0.2"], Ips(Assert.Single(slices)));
    }

    const string NamedWeb = """
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: default}
        spec:
          clusterIP: 10.96.0.10
          selector: {app: web}
          ports:
          - {name: http, port: 80, targetPort: http}
          - {name: metrics, port: 9090, targetPort: 9100}

        """;

    [Fact]
    public void Named_targetPort_is_resolved_per_pod_and_pods_are_grouped_by_port_set()
    {
        var (slices, _) = Run(NamedWeb
            + Pod("a", "10.244.1.1", ports: "[{name: http, containerPort: 8080}]")
            + Pod("b", "10.244.1.2", ports: "[{name: http, containerPort: 8081}]")
            + Pod("c", "10.244.1.3", ports: "[{name: other, containerPort: 7000}, {name: http, containerPort: 8080}]"));

        Assert.Equal(["web-1", "web-2"], slices.Select(s => s.Name));
        Assert.Equal(["10.244.1.1", "10.244.1.3"], Ips(slices[0]));
        Assert.Equal(["10.244.1.2"], Ips(slices[1]));
        Assert.Equal([("http", 8080), ("metrics", 9100)], slices[0].Ports.Select(p => (p.Name, p.Port!.Value)));
        Assert.Equal([("http", 8081), ("metrics", 9100)], slices[1].Ports.Select(p => (p.Name, p.Port!.Value)));
    }

    [Fact]
    public void A_pod_without_the_named_port_is_no_endpoint_for_that_port()
    {
        var (slices, _) = Run(NamedWeb
            + Pod("a", "10.244.1.1", ports: "[{name: http, containerPort: 8080}]")
            + Pod("no-name", "10.244.1.2", ports: "[{containerPort: 8080}]")
            // FindPort matches the protocol too: a UDP "http" does not serve a TCP service port.
            + Pod("udp", "10.244.1.3", ports: "[{name: http, containerPort: 8080, protocol: UDP}]"));

        Assert.Equal(2, slices.Count);
        Assert.Equal(["10.244.1.1"], Ips(slices[0]));
        Assert.Equal(["10.244.1.2", "10.244.1.3"], Ips(slices[1]));
        // Still an endpoint for the numeric metrics port, but not for http.
        Assert.Equal(["metrics"], slices[1].Ports.Select(p => p.Name));
    }

    [Fact]
    public void A_hand_written_slice_or_Endpoints_object_wins()
    {
        var (slices, _) = Run(Web
            + """
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: mine, namespace: default, labels: {kubernetes.io/service-name: web}}
            addressType: IPv4
            ports: [{name: http, port: 8080}]
            endpoints: [{addresses: [10.244.1.99]}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: legacy, namespace: default}
            spec: {clusterIP: 10.96.0.11, selector: {app: web}, ports: [{port: 80}]}
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: legacy, namespace: default}
            subsets: [{addresses: [{ip: 10.244.1.98}], ports: [{port: 80}]}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: other}
            spec: {clusterIP: 10.96.0.12, selector: {app: web}, ports: [{port: 80}]}

            """
            + Pod("a", "10.244.1.1")
            + Pod("b", "10.244.1.2", ns: "other"));

        // Only other/web, whose namespace has no hand-written objects, gets a controller slice.
        var slice = Assert.Single(slices);
        Assert.Equal("other", slice.Namespace);
        Assert.Equal(["10.244.1.2"], Ips(slice));
    }

    [Fact]
    public void A_service_without_endpoints_gets_an_empty_placeholder_slice()
    {
        var (slices, _) = Run(Web + Pod("other-app", "10.244.1.1", "{app: db}"));
        var slice = Assert.Single(slices);
        Assert.Equal("web-1", slice.Name);
        Assert.Empty(slice.Ports);
        Assert.Empty(slice.Endpoints);
    }

    [Fact]
    public void Headless_services_get_slices_with_the_headless_label_and_hostnames()
    {
        var (slices, _) = Run(
            """
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: db, namespace: default}
            spec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}

            """
            + Pod("db-0", "10.244.1.1", "{app: db}", extraSpec: ", hostname: db-0, subdomain: db")
            + Pod("db-1", "10.244.1.2", "{app: db}", extraSpec: ", hostname: db-1, subdomain: elsewhere"));
        var slice = Assert.Single(slices);
        Assert.Equal("", slice.Labels[EndpointsController.HeadlessLabel]);
        Assert.Equal(["db-0", null], slice.Endpoints.Select(e => e.Hostname));
    }

    [Fact]
    public void More_than_100_endpoints_are_split_into_slices_of_100()
    {
        var pods = string.Concat(Enumerable.Range(0, 150).Select(i => Pod($"p{i}", $"10.244.{1 + i / 200}.{1 + i % 200}")));
        var (slices, _) = Run(Web + pods);
        Assert.Equal(["web-1", "web-2"], slices.Select(s => s.Name));
        Assert.Equal([100, 50], slices.Select(s => s.Endpoints.Count));
    }

    [Fact]
    public void Output_is_deterministic()
    {
        string yaml = NamedWeb
            + Pod("a", "10.244.1.1", ports: "[{name: http, containerPort: 8080}]")
            + Pod("b", "10.244.1.2", ports: "[{name: http, containerPort: 8081}]")
            + Pod("c", "10.244.1.3", ports: "[{name: http, containerPort: 8080}]");
        static string Dump(IReadOnlyList<EndpointSlice> s) => string.Join("|", s.Select(x =>
            $"{x.Name}:{string.Join(",", x.Ports.Select(p => $"{p.Name}={p.Port}"))}:{string.Join(",", Ips(x))}"));
        Assert.Equal(Dump(Run(yaml).Slices), Dump(Run(yaml).Slices));
        Assert.Equal("web-1:http=8080,metrics=9100:10.244.1.1,10.244.1.3|web-2:http=8081,metrics=9100:10.244.1.2", Dump(Run(yaml).Slices));
    }
}
