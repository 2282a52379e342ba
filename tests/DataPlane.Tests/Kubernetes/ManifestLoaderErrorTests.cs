using DataPlane.Kubernetes.Manifests;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Kubernetes;

/// <summary>
/// Every rejected input gives one ManifestException whose one-line message names the file, the object and the
/// field. Each row: why it is rejected, the manifest, and the exact message after "file: " ({file} = the file path).
/// </summary>
public class ManifestLoaderErrorTests
{
    private const string Web = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n";

    public static TheoryData<string, string, string> Invalid => new()
    {
        // ---- document shape, kind and apiVersion
        { "a document must be an object", "- a\n- b\n", "document 1: expected a mapping (a Kubernetes object)" },
        { "kind is required", "apiVersion: v1\nmetadata: {name: x}\n", "document 1: kind: required" },
        { "apiVersion is required", "kind: Service\nmetadata: {name: x}\n", "document 1: apiVersion: required" },
        { "a version the API server does not serve for a modelled kind", "apiVersion: v2\nkind: Service\nmetadata: {name: x}\n",
            "Service in document 1: apiVersion: no matches for kind \"Service\" in version \"v2\" (the API server serves it as v1)" },
        { "EndpointSlice lives in discovery.k8s.io/v1", "apiVersion: discovery.k8s.io/v1beta1\nkind: EndpointSlice\nmetadata: {name: x}\n",
            "EndpointSlice in document 1: apiVersion: no matches for kind \"EndpointSlice\" in version \"discovery.k8s.io/v1beta1\" (the API server serves it as discovery.k8s.io/v1)" },
        { "the error names the document it is in", "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n---\napiVersion: v1\nkind: Pod\nmetadata: {}\n",
            "Pod in document 2: metadata.name: required" },
        { "kind must be a string", "apiVersion: v1\nkind: [Service]\n", "document 1: kind: expected a string, got a list" },
        { "List items are located by index", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Node\n  metadata: {name: n1}\n- apiVersion: v1\n  metadata: {name: m}\n",
            "document 1 items[1]: kind: required" },
        { "errors inside a named List item name the object", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: web}\n  spec: {ports: [{port: 0}]}\n",
            "Service default/web: spec.ports[0].port: 0 is not a valid port (1-65535)" },
        { "List is v1", "apiVersion: meta/v1\nkind: List\nitems: []\n", "document 1: apiVersion: \"meta/v1\" is not a valid apiVersion for kind List (expected v1)" },

        // ---- metadata
        { "service names are RFC 1035 labels", "apiVersion: v1\nkind: Service\nmetadata: {name: Web_1}\n",
            "Service in document 1: metadata.name: Invalid value: \"Web_1\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')" },
        { "namespaces are RFC 1123 labels", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: Prod}\n",
            "Service in document 1: metadata.namespace: Invalid value: \"Prod\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')" },
        { "label values are strings", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {version: 2}}\n",
            "Pod default/p: metadata.labels[version]: expected a string, got number 2" },

        // ---- Service ports
        { "port above 65535", Web + "spec:\n  ports:\n  - {name: a, port: 80}\n  - {name: b, port: 70000}\n",
            "Service default/web: spec.ports[1].port: 70000 is not a valid port (1-65535)" },
        { "port is required", Web + "spec: {ports: [{name: a}]}\n", "Service default/web: spec.ports[0].port: required" },
        { "a quoted port is a string, not a number", Web + "spec: {ports: [{port: \"80\"}]}\n",
            "Service default/web: spec.ports[0].port: expected an integer, got \"80\"" },
        { "port beyond int32", Web + "spec: {ports: [{port: 99999999999}]}\n",
            "Service default/web: spec.ports[0].port: 99999999999 is out of range for a 32-bit integer" },
        { "protocols are case-sensitive", Web + "spec: {ports: [{port: 80, protocol: tcp}]}\n",
            "Service default/web: spec.ports[0].protocol: \"tcp\" is not a supported protocol (TCP, UDP or SCTP)" },
        { "port names are strings", Web + "spec: {ports: [{name: 80, port: 80}]}\n",
            "Service default/web: spec.ports[0].name: expected a string, got number 80" },
        { "names are required with several ports (first unnamed)", Web + "spec: {ports: [{port: 80}, {name: b, port: 81}]}\n",
            "Service default/web: spec.ports[0].name: required when the service has more than one port" },
        { "names are required with several ports (second unnamed)", Web + "spec: {ports: [{name: a, port: 80}, {port: 81}]}\n",
            "Service default/web: spec.ports[1].name: required when the service has more than one port" },
        { "port names are unique", Web + "spec: {ports: [{name: a, port: 80}, {name: a, port: 81}]}\n",
            "Service default/web: spec.ports[1].name: duplicate port name \"a\"" },
        { "port + protocol is unique", Web + "spec: {ports: [{name: a, port: 80}, {name: b, port: 80}]}\n",
            "Service default/web: spec.ports[1]: duplicate port 80/TCP" },
        { "port names are RFC 1123 labels", Web + "spec: {ports: [{name: HTTP, port: 80}]}\n",
            "Service default/web: spec.ports[0].name: Invalid value: \"HTTP\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')" },
        { "nodePort on a ClusterIP service", Web + "spec: {ports: [{port: 80, nodePort: 30080}]}\n",
            "Service default/web: spec.ports[0].nodePort: may not be used when spec.type is ClusterIP" },
        { "nodePort out of range", Web + "spec: {type: NodePort, ports: [{port: 80, nodePort: 70000}]}\n",
            "Service default/web: spec.ports[0].nodePort: 70000 is not a valid port (1-65535)" },
        { "targetPort out of range", Web + "spec: {ports: [{port: 80, targetPort: 65536}]}\n",
            "Service default/web: spec.ports[0].targetPort: 65536 is not a valid port (1-65535)" },
        { "a named targetPort must be an IANA service name", Web + "spec: {ports: [{port: 80, targetPort: \"8080\"}]}\n",
            "Service default/web: spec.ports[0].targetPort: \"8080\" is not a valid port number or name (IANA service name: at most 15 lowercase letters, digits and '-', with a letter)" },
        { "a non-headless service needs ports", Web + "spec: {selector: {app: web}}\n", "Service default/web: spec.ports: required (at least one port)" },
        { "ports is a list", Web + "spec: {ports: {port: 80}}\n", "Service default/web: spec.ports: expected a list, got a mapping" },

        // ---- Service addresses
        { "clusterIP octet out of range", Web + "spec: {clusterIP: 10.0.0.256, ports: [{port: 80}]}\n",
            "Service default/web: spec.clusterIP: \"10.0.0.256\" is not a valid IP address" },
        { "clusterIP with a leading zero", Web + "spec: {clusterIP: 010.0.0.1, ports: [{port: 80}]}\n",
            "Service default/web: spec.clusterIP: \"010.0.0.1\" is not a valid IP address" },
        { "clusterIPs[0] must equal clusterIP", Web + "spec: {clusterIP: 10.0.0.1, clusterIPs: [10.0.0.2], ports: [{port: 80}]}\n",
            "Service default/web: spec.clusterIPs[0]: \"10.0.0.2\" must match spec.clusterIP \"10.0.0.1\"" },
        { "bad externalIP", Web + "spec: {externalIPs: [1.2.3.4, foo], ports: [{port: 80}]}\n",
            "Service default/web: spec.externalIPs[1]: \"foo\" is not a valid IP address" },
        { "bad source range", Web + "spec: {type: LoadBalancer, loadBalancerSourceRanges: [10.0.0.0/33], ports: [{port: 80}]}\n",
            "Service default/web: spec.loadBalancerSourceRanges[0]: \"10.0.0.0/33\" is not a valid CIDR" },
        { "source ranges need type LoadBalancer", Web + "spec: {loadBalancerSourceRanges: [10.0.0.0/8], ports: [{port: 80}]}\n",
            "Service default/web: spec.loadBalancerSourceRanges: may only be used when spec.type is LoadBalancer" },
        { "bad ingress ip", Web + "spec: {type: LoadBalancer, ports: [{port: 80}]}\nstatus: {loadBalancer: {ingress: [{ip: 1.2.3}]}}\n",
            "Service default/web: status.loadBalancer.ingress[0].ip: \"1.2.3\" is not a valid IP address" },
        { "bad ipMode", Web + "spec: {type: LoadBalancer, ports: [{port: 80}]}\nstatus: {loadBalancer: {ingress: [{ip: 1.2.3.4, ipMode: vip}]}}\n",
            "Service default/web: status.loadBalancer.ingress[0].ipMode: \"vip\" is not a valid ipMode (VIP or Proxy)" },
        { "ExternalName services have no cluster IP", Web + "spec: {type: ExternalName, externalName: x.example.com, clusterIP: None}\n",
            "Service default/web: spec.clusterIP: may not be set for type ExternalName" },

        // ---- Service type and policies
        { "unknown type", Web + "spec: {type: Foo, ports: [{port: 80}]}\n",
            "Service default/web: spec.type: \"Foo\" is not a valid service type (ClusterIP, NodePort, LoadBalancer or ExternalName)" },
        { "ExternalName needs externalName", Web + "spec: {type: ExternalName}\n",
            "Service default/web: spec.externalName: required for type ExternalName" },
        { "externalTrafficPolicy Global was removed", Web + "spec: {type: NodePort, externalTrafficPolicy: Global, ports: [{port: 80}]}\n",
            "Service default/web: spec.externalTrafficPolicy: \"Global\" is not a valid externalTrafficPolicy (Cluster or Local)" },
        { "internalTrafficPolicy is case-sensitive", Web + "spec: {internalTrafficPolicy: local, ports: [{port: 80}]}\n",
            "Service default/web: spec.internalTrafficPolicy: \"local\" is not a valid internalTrafficPolicy (Cluster or Local)" },
        { "unknown session affinity", Web + "spec: {sessionAffinity: Sticky, ports: [{port: 80}]}\n",
            "Service default/web: spec.sessionAffinity: \"Sticky\" is not a valid session affinity (None or ClientIP)" },
        { "affinity timeout above one day", Web + "spec: {sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: {timeoutSeconds: 86401}}, ports: [{port: 80}]}\n",
            "Service default/web: spec.sessionAffinityConfig.clientIP.timeoutSeconds: 86401 is not a valid timeout (1-86400 seconds)" },
        { "affinity timeout zero", Web + "spec: {sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: {timeoutSeconds: 0}}, ports: [{port: 80}]}\n",
            "Service default/web: spec.sessionAffinityConfig.clientIP.timeoutSeconds: 0 is not a valid timeout (1-86400 seconds)" },
        { "affinity config without ClientIP affinity", Web + "spec: {sessionAffinityConfig: {clientIP: {timeoutSeconds: 10}}, ports: [{port: 80}]}\n",
            "Service default/web: spec.sessionAffinityConfig: must not be set when spec.sessionAffinity is None" },
        { "booleans are not strings", Web + "spec: {publishNotReadyAddresses: \"yes\", ports: [{port: 80}]}\n",
            "Service default/web: spec.publishNotReadyAddresses: expected true or false, got \"yes\"" },
        { "selector is a map", Web + "spec: {selector: [app], ports: [{port: 80}]}\n",
            "Service default/web: spec.selector: expected a mapping, got a list" },
        { "spec is a mapping", Web + "spec: 42\n", "Service default/web: spec: expected a mapping, got number 42" },

        // ---- EndpointSlice
        { "addressType is required", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\nendpoints: []\n",
            "EndpointSlice default/s: addressType: required (IPv4, IPv6 or FQDN)" },
        { "addressType is case-sensitive", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: ipv4\n",
            "EndpointSlice default/s: addressType: \"ipv4\" is not a valid addressType (IPv4, IPv6 or FQDN)" },
        { "IPv4 slices hold IPv4 addresses only", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv4\nendpoints:\n- addresses: [10.0.0.1, \"fd00::1\"]\n",
            "EndpointSlice default/s: endpoints[0].addresses[1]: \"fd00::1\" is not a valid IPv4 address (addressType is IPv4)" },
        { "an endpoint needs an address", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv4\nendpoints:\n- nodeName: n1\n",
            "EndpointSlice default/s: endpoints[0].addresses: required (at least one address)" },
        { "conditions are booleans", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv4\nendpoints:\n- addresses: [10.0.0.1]\n  conditions: {ready: \"true\"}\n",
            "EndpointSlice default/s: endpoints[0].conditions.ready: expected true or false, got \"true\"" },
        { "slice port range", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv4\nports: [{name: a, port: 0}]\n",
            "EndpointSlice default/s: ports[0].port: 0 is not a valid port (1-65535)" },
        { "slice port names are unique", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv4\nports: [{port: 80}, {port: 81}]\n",
            "EndpointSlice default/s: ports[1].name: duplicate port name \"\"" },

        // ---- Endpoints
        { "endpoints address", "apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\nsubsets:\n- addresses: [{ip: 10.0.0}]\n",
            "Endpoints default/e: subsets[0].addresses[0].ip: \"10.0.0\" is not a valid IP address" },
        { "endpoints ports need names when several", "apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\nsubsets:\n- ports: [{name: a, port: 80}, {port: 81}]\n",
            "Endpoints default/e: subsets[0].ports[1].name: required when the subset has more than one port" },
        { "endpoints port protocol", "apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\nsubsets:\n- notReadyAddresses: [{ip: 10.0.0.1}]\n  ports: [{port: 80, protocol: ICMP}]\n",
            "Endpoints default/e: subsets[0].ports[0].protocol: \"ICMP\" is not a supported protocol (TCP, UDP or SCTP)" },

        // ---- Pod
        { "containerPort range", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}, {name: d, ports: [{containerPort: 0}]}]}\n",
            "Pod default/p: spec.containers[1].ports[0].containerPort: 0 is not a valid port (1-65535)" },
        { "podIP", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {podIP: 10.0.0.300}\n",
            "Pod default/p: status.podIP: \"10.0.0.300\" is not a valid IP address" },
        { "pod phase", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {phase: Dead}\n",
            "Pod default/p: status.phase: \"Dead\" is not a valid pod phase (Pending, Running, Succeeded, Failed or Unknown)" },
        { "condition status", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {conditions: [{type: Ready, status: \"yes\"}]}\n",
            "Pod default/p: status.conditions[0].status: \"yes\" is not a valid condition status (True, False or Unknown)" },

        // ---- Node
        { "node address type", "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {addresses: [{type: PublicIP, address: 1.2.3.4}]}\n",
            "Node n1: status.addresses[0].type: \"PublicIP\" is not a valid node address type (Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS)" },
        { "node IP", "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {addresses: [{type: InternalIP, address: node-a}]}\n",
            "Node n1: status.addresses[0].address: \"node-a\" is not a valid IP address" },
        { "node pod CIDR", "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nspec: {podCIDR: 10.0.1.0/24x}\n",
            "Node n1: spec.podCIDR: \"10.0.1.0/24x\" is not a valid CIDR" },

        // ---- KubeProxyConfiguration
        { "detectLocalMode", "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\ndetectLocalMode: BridgeInterface\n",
            "KubeProxyConfiguration in document 1: detectLocalMode: \"BridgeInterface\" is not a valid detectLocalMode (ClusterCIDR or NodeCIDR)" },
        { "clusterCIDR parts", "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.0.0.0/8,10.1.0.0/33\n",
            "KubeProxyConfiguration in document 1: clusterCIDR: \"10.1.0.0/33\" is not a valid CIDR" },
        { "primary stands alone", "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nnodePortAddresses: [primary, 10.0.0.0/8]\n",
            "KubeProxyConfiguration in document 1: nodePortAddresses: \"primary\" cannot be combined with CIDRs" },
        { "masqueradeAll is a boolean", "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\niptables: {masqueradeAll: \"true\"}\n",
            "KubeProxyConfiguration in document 1: iptables.masqueradeAll: expected true or false, got \"true\"" },
        { "one KubeProxyConfiguration only", "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n---\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n",
            "KubeProxyConfiguration in document 2: duplicate object; a KubeProxyConfiguration was already defined in {file}" },

        // ---- ServiceCIDR
        { "service CIDRs are canonical", "apiVersion: networking.k8s.io/v1\nkind: ServiceCIDR\nmetadata: {name: s}\nspec: {cidrs: [10.96.0.1/12]}\n",
            "ServiceCIDR s: spec.cidrs[0]: \"10.96.0.1/12\" is not in canonical form (did you mean 10.96.0.0/12?)" },
        { "service CIDRs are required", "apiVersion: networking.k8s.io/v1\nkind: ServiceCIDR\nmetadata: {name: s}\nspec: {cidrs: []}\n",
            "ServiceCIDR s: spec.cidrs: required (at least one CIDR)" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Rejected_with_file_object_and_field(string why, string yaml, string expected)
    {
        using var dir = new ManifestDirectory();
        var file = dir.Write("manifests/bad.yaml", yaml);

        var e = Assert.Throws<ManifestException>(() => ManifestLoader.Load(file));

        Assert.True(why.Length > 0);
        Assert.Equal($"{file}: {expected.Replace("{file}", file)}", e.Message);
        Assert.Equal(file, e.FilePath);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Missing_file()
    {
        using var scratch = new TempDir("missing");
        var path = Path.Combine(scratch.Path, "no-such", "web.yaml");
        var e = Assert.Throws<ManifestException>(() => ManifestLoader.Load(path));
        Assert.Equal($"{path}: no such file or directory", e.Message);
    }

    [Fact]
    public void Folder_without_manifests()
    {
        using var dir = new ManifestDirectory();
        dir.Write("notes.txt", "hello");
        var e = Assert.Throws<ManifestException>(() => ManifestLoader.Load(dir.Root));
        Assert.Equal($"{dir.Root}: folder contains no .yaml, .yml or .json files", e.Message);
    }

    [Fact]
    public void Yaml_syntax_error_has_document_line_and_column()
    {
        using var dir = new ManifestDirectory();
        var file = dir.Write("web.yaml", "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: [unclosed\n");
        var e = Assert.Throws<ManifestException>(() => ManifestLoader.Load(file));
        Assert.StartsWith($"{file}: document 2: line ", e.Message);
        Assert.Contains("YAML syntax error", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Bad_indentation_is_a_syntax_error_with_position()
    {
        using var dir = new ManifestDirectory();
        var file = dir.Write("web.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n    namespace: x\n");
        var e = Assert.Throws<ManifestException>(() => ManifestLoader.Load(file));
        Assert.Matches(@"^.*web\.yaml: document 1: line 5, column \d+: YAML syntax error: ", e.Message);
    }

    [Fact]
    public void Duplicate_mapping_key_is_rejected()
    {
        using var dir = new ManifestDirectory();
        var file = dir.Write("web.yaml", "apiVersion: v1\nkind: Service\nkind: Node\nmetadata: {name: web}\n");
        var e = Assert.Throws<ManifestException>(() => ManifestLoader.Load(file));
        Assert.StartsWith($"{file}: document 1: line ", e.Message);
    }
}
