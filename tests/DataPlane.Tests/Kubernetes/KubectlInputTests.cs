using DataPlane.Kubernetes.Manifests;

namespace DataPlane.Tests.Kubernetes;

/// <summary>
/// The loader takes its inputs as kubectl and the API server do: typed lists (ServiceList…) and JSON streams are
/// flattened, kinds a built-in group does not serve are the API server's "no matches" error, names are validated with
/// apimachinery's messages, a later definition of an object replaces the earlier one, and -n fills in namespaces.
/// </summary>
public class KubectlInputTests
{
    const string Dns1035Msg = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    const string Dns1123LabelMsg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const string SubdomainMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

    static ClusterManifests Load(string text, LoadOptions? options = null, string name = "cluster.yaml")
    {
        using var dir = new ManifestDirectory();
        return ManifestLoader.Load([dir.Write(name, text)], options);
    }

    /// <summary>The error's message after "file: ".</summary>
    static (string Message, ManifestException Error) Fails(string text, LoadOptions? options = null, string name = "cluster.yaml")
    {
        using var dir = new ManifestDirectory();
        var file = dir.Write(name, text);
        var e = Assert.Throws<ManifestException>(() => ManifestLoader.Load([file], options));
        Assert.StartsWith(file + ": ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return (e.Message[(file.Length + 2)..], e);
    }

    // ---- 1. typed lists -----------------------------------------------------------------------------------------

    /// <summary>`kubectl get --raw /api/v1/services`: the API server's ServiceList, whose items carry no kind or apiVersion.</summary>
    const string RawServiceList = """
        {"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"48213"},"items":[
        {"metadata":{"name":"kubernetes","namespace":"default","uid":"5b1f0f3e-6d3c-4f43-9d1a-0e2a3e0c8a11","resourceVersion":"192","creationTimestamp":"2024-05-02T09:14:03Z","labels":{"component":"apiserver","provider":"kubernetes"},"managedFields":[{"manager":"kube-apiserver","operation":"Update","apiVersion":"v1","time":"2024-05-02T09:14:03Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{}}}]},"spec":{"ports":[{"name":"https","protocol":"TCP","port":443,"targetPort":6443}],"clusterIP":"10.96.0.1","clusterIPs":["10.96.0.1"],"type":"ClusterIP","sessionAffinity":"None","ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack","internalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}},
        {"metadata":{"name":"kube-dns","namespace":"kube-system","labels":{"k8s-app":"kube-dns"}},"spec":{"ports":[{"name":"dns","protocol":"UDP","port":53,"targetPort":53},{"name":"dns-tcp","protocol":"TCP","port":53,"targetPort":53}],"selector":{"k8s-app":"kube-dns"},"clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],"type":"ClusterIP","sessionAffinity":"None"},"status":{"loadBalancer":{}}},
        {"metadata":{"name":"web","namespace":"shop"},"spec":{"ports":[{"name":"http","protocol":"TCP","port":80,"targetPort":8080,"nodePort":30080}],"selector":{"app":"web"},"clusterIP":"10.96.12.7","type":"NodePort","externalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}}
        ]}
        """;

    [Fact]
    public void A_ServiceList_from_kubectl_get_raw_loads_every_service()
    {
        var m = Load(RawServiceList, name: "services.json");
        Assert.Equal(["default/kubernetes", "kube-system/kube-dns", "shop/web"], m.Services.Select(s => s.Key));
        Assert.Equal(30080, m.Services[2].Ports[0].NodePort);
        Assert.DoesNotContain(m.Warnings, w => w.Contains("skipped", StringComparison.Ordinal));
    }

    [Fact]
    public void Typed_lists_of_every_modelled_group_are_flattened()
    {
        var m = Load("""
            apiVersion: v1
            kind: PodList
            metadata: {resourceVersion: "7"}
            items:
            - metadata: {name: web-1, namespace: shop, labels: {app: web}}
              spec: {nodeName: node-1, containers: [{name: c, ports: [{containerPort: 8080}]}]}
              status: {phase: Running, podIP: 10.244.1.5, conditions: [{type: Ready, status: "True"}]}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSliceList
            items:
            - metadata: {name: web-abcde, namespace: shop, labels: {kubernetes.io/service-name: web}}
              addressType: IPv4
              endpoints: [{addresses: [10.244.1.5], conditions: {ready: true}}]
              ports: [{name: http, port: 8080, protocol: TCP}]
            ---
            apiVersion: apps/v1
            kind: DeploymentList
            items:
            - metadata: {name: api, namespace: shop}
              spec:
                replicas: 2
                selector: {matchLabels: {app: api}}
                template: {metadata: {labels: {app: api}}, spec: {containers: [{name: c}]}}
            ---
            apiVersion: v1
            kind: NodeList
            items:
            - metadata: {name: node-1}
              status: {addresses: [{type: InternalIP, address: 192.168.0.2}]}
            ---
            apiVersion: v1
            kind: ConfigMapList
            items:
            - metadata: {name: settings, namespace: shop}
              data: {a: b}
            """);
        Assert.Equal("shop/web-1", Assert.Single(m.Pods).Key);
        Assert.Equal("web", Assert.Single(m.EndpointSlices).ServiceName);
        var api = Assert.Single(m.Workloads);
        Assert.Equal((WorkloadKind.Deployment, "shop/api", 2), (api.Kind, api.Key, api.Replicas));
        Assert.Equal("node-1", Assert.Single(m.Nodes).Name);
        // A served kind DataPlane does not model, from a typed list, is counted like any other.
        Assert.Contains("skipped 1 object of kinds DataPlane does not model: ConfigMap ×1", m.Warnings);
    }

    [Fact]
    public void A_kubectl_get_all_namespaces_List_and_nested_lists_keep_the_written_order()
    {
        var m = Load("""
            {
                "apiVersion": "v1",
                "items": [
                    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "x"}, "spec": {"clusterIP": "10.96.0.11", "ports": [{"port": 80}]}},
                    {"apiVersion": "v1", "kind": "ServiceList", "items": [
                        {"metadata": {"name": "b", "namespace": "x"}, "spec": {"clusterIP": "10.96.0.12", "ports": [{"port": 80}]}},
                        {"apiVersion": "v1", "kind": "List", "items": [
                            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "c", "namespace": "y"}, "spec": {"clusterIP": "10.96.0.13", "ports": [{"port": 80}]}}
                        ]}
                    ]},
                    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "d", "namespace": "y"}, "spec": {"clusterIP": "10.96.0.14", "ports": [{"port": 80}]}}
                ],
                "kind": "List",
                "metadata": {"resourceVersion": ""}
            }
            """, name: "all.json");
        Assert.Equal(["x/a", "x/b", "y/c", "y/d"], m.Services.Select(s => s.Key));
    }

    [Fact]
    public void Deeply_nested_lists_cost_what_their_bytes_cost_and_errors_still_name_the_item()
    {
        // 3 000 lists inside each other (go-yaml's depth limit allows about that many): flattened without recursion,
        // and without composing a path per level (which would be quadratic).
        const int depth = 3000;
        var text = string.Concat(Enumerable.Repeat("{apiVersion: v1, kind: List, items: [", depth))
            + "{apiVersion: v1, kind: Service, metadata: {name: deep}, spec: {ports: [{port: PORT}]}}"
            + string.Concat(Enumerable.Repeat("]}", depth)) + "\n";
        Assert.Equal("default/deep", Assert.Single(Load(text.Replace("PORT", "80", StringComparison.Ordinal)).Services).Key);
        var (message, _) = Fails(text.Replace("PORT", "0", StringComparison.Ordinal));
        Assert.Equal("Service default/deep: spec.ports[0].port: 0 is not a valid port (1-65535)", message);
        var (unnamed, _) = Fails(text.Replace("metadata: {name: deep}", "metadata: {}", StringComparison.Ordinal));
        Assert.Equal("Service in document 1 " + string.Join(".", Enumerable.Repeat("items[0]", depth)) + ": metadata.name: required", unnamed);
    }

    [Fact]
    public void Errors_inside_a_typed_list_name_the_item_and_a_typed_list_without_items_is_an_unknown_kind()
    {
        Assert.Equal("Service in document 1 items[1]: metadata.name: required",
            Fails("apiVersion: v1\nkind: ServiceList\nitems:\n- metadata: {name: a}\n  spec: {ports: [{port: 80}]}\n- metadata: {namespace: x}\n").Message);
        Assert.Equal("Service default/a: spec.ports[0].port: 0 is not a valid port (1-65535)",
            Fails("apiVersion: v1\nkind: ServiceList\nitems:\n- metadata: {name: a}\n  spec: {ports: [{port: 0}]}\n").Message);
        // An item's own kind and apiVersion win over the list's (decodeToList only fills in items that have neither).
        Assert.Equal("Deployment in document 1 items[0]: apiVersion: no matches for kind \"Deployment\" in version \"v1\" (the API server serves it as apps/v1)",
            Fails("apiVersion: apps/v1\nkind: DeploymentList\nitems:\n- {apiVersion: v1, kind: Deployment, metadata: {name: a}}\n").Message);
        Assert.Equal("ServiceList in document 1: apiVersion: no matches for kind \"ServiceList\" in version \"v1\"",
            Fails("apiVersion: v1\nkind: ServiceList\nmetadata: {name: x}\n").Message);
    }

    // ---- 2. kinds a built-in group/version does not serve ----------------------------------------------------------

    [Fact]
    public void An_unknown_kind_in_a_built_in_version_is_the_API_servers_no_matches_error()
    {
        // A tutorial's typo: "type: LoadBalancer" written as the kind.
        var (message, e) = Fails("apiVersion: v1\nkind: LoadBalancer\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n");
        Assert.Equal("LoadBalancer in document 1: apiVersion: no matches for kind \"LoadBalancer\" in version \"v1\"", message);
        Assert.Equal("kube-apiserver", e.RefusedBy);
    }

    [Theory]
    [InlineData("apps/v1", "Service", "Service in document 1: apiVersion: no matches for kind \"Service\" in version \"apps/v1\" (the API server serves it as v1)")]
    [InlineData("extensions/v1beta1", "Ingress", "Ingress in document 1: apiVersion: no matches for kind \"Ingress\" in version \"extensions/v1beta1\" (the API server serves it as networking.k8s.io/v1)")]
    [InlineData("policy/v1beta1", "PodSecurityPolicy", "PodSecurityPolicy in document 1: apiVersion: no matches for kind \"PodSecurityPolicy\" in version \"policy/v1beta1\"")]
    [InlineData("batch/v1beta1", "CronJob", "CronJob in document 1: apiVersion: no matches for kind \"CronJob\" in version \"batch/v1beta1\" (the API server serves it as batch/v1)")]
    [InlineData("networking.k8s.io/v1", "Service", "Service in document 1: apiVersion: no matches for kind \"Service\" in version \"networking.k8s.io/v1\" (the API server serves it as v1)")]
    [InlineData("discovery.k8s.io/v1beta1", "EndpointSlice", "EndpointSlice in document 1: apiVersion: no matches for kind \"EndpointSlice\" in version \"discovery.k8s.io/v1beta1\" (the API server serves it as discovery.k8s.io/v1)")]
    [InlineData("rbac.authorization.k8s.io/v1", "ServiceAccount", "ServiceAccount in document 1: apiVersion: no matches for kind \"ServiceAccount\" in version \"rbac.authorization.k8s.io/v1\" (the API server serves it as v1)")]
    [InlineData("autoscaling/v2", "Scale", "Scale in document 1: apiVersion: no matches for kind \"Scale\" in version \"autoscaling/v2\"")]
    public void Modelled_and_unmodelled_kinds_under_a_built_in_group_share_one_rule(string apiVersion, string kind, string expected)
    {
        Assert.Equal(expected, Fails($"apiVersion: {apiVersion}\nkind: {kind}\nmetadata: {{name: x}}\n").Message);
    }

    [Fact]
    public void Served_kinds_not_modelled_and_CRDs_are_skipped_with_the_notice()
    {
        var m = Load("""
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings}
            ---
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata: {name: web}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: "system:aggregate-to-admin"}
            ---
            apiVersion: autoscaling/v2
            kind: HorizontalPodAutoscaler
            metadata: {name: web}
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingWebhookConfiguration
            metadata: {name: hook}
            ---
            apiVersion: flowcontrol.apiserver.k8s.io/v1
            kind: FlowSchema
            metadata: {name: fs}
            ---
            apiVersion: serving.knative.dev/v1
            kind: Service
            metadata: {name: hello}
            ---
            apiVersion: monitoring.coreos.com/v1
            kind: ServiceMonitor
            metadata: {name: web}
            ---
            apiVersion: argoproj.io/v1alpha1
            kind: Application
            metadata: {name: guestbook, namespace: argocd}
            """);
        Assert.Empty(m.Services);
        Assert.Contains("skipped 9 objects of kinds DataPlane does not model: Application ×1, ClusterRole ×1, ConfigMap ×1, FlowSchema ×1, " +
            "HorizontalPodAutoscaler ×1, Ingress ×1, Service.serving.knative.dev ×1, ServiceMonitor ×1, ValidatingWebhookConfiguration ×1", m.Warnings);
    }

    // ---- 3. names ---------------------------------------------------------------------------------------------------

    public static TheoryData<string, string, string> BadNames => new()
    {
        { "Service names are DNS-1035 labels", "apiVersion: v1\nkind: Service\nmetadata: {name: 1web}\nspec: {ports: [{port: 80}]}\n",
            "Service in document 1: metadata.name: Invalid value: \"1web\": " + Dns1035Msg },
        { "a long Service name gets both of the API server's messages", "apiVersion: v1\nkind: Service\nmetadata: {name: " + new string('a', 64) + "_}\nspec: {ports: [{port: 80}]}\n",
            "Service in document 1: metadata.name: Invalid value: \"" + new string('a', 64) + "_\": must be no more than 63 characters; Invalid value: \"" + new string('a', 64) + "_\": " + Dns1035Msg },
        { "Namespace names are RFC 1123 labels", "apiVersion: v1\nkind: Namespace\nmetadata: {name: team.a}\n",
            "Namespace in document 1: metadata.name: Invalid value: \"team.a\": must not contain dots" },
        { "Namespace names are lowercase", "apiVersion: v1\nkind: Namespace\nmetadata: {name: Team}\n",
            "Namespace in document 1: metadata.name: Invalid value: \"Team\": " + Dns1123LabelMsg },
        { "Deployment names are subdomains", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: My_App}\n",
            "Deployment in document 1: metadata.name: Invalid value: \"My_App\": " + SubdomainMsg },
        { "StatefulSet names are labels", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db.v1}\n",
            "StatefulSet in document 1: metadata.name: Invalid value: \"db.v1\": must not contain dots" },
        { "Pod names are subdomains", "apiVersion: v1\nkind: Pod\nmetadata: {name: \"web-\"}\n",
            "Pod in document 1: metadata.name: Invalid value: \"web-\": " + SubdomainMsg },
        { "EndpointSlice names are subdomains", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: Web}\naddressType: IPv4\n",
            "EndpointSlice in document 1: metadata.name: Invalid value: \"Web\": " + SubdomainMsg },
        { "a skipped ConfigMap still has a subdomain name", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: My_Config}\n",
            "ConfigMap in document 1: metadata.name: Invalid value: \"My_Config\": " + SubdomainMsg },
        { "a skipped object's namespace is a label", "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: prod.eu}\n",
            "Secret in document 1: metadata.namespace: Invalid value: \"prod.eu\": must not contain dots" },
        { "Service port names are labels", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{name: http.alt, port: 80}]}\n",
            "Service default/web: spec.ports[0].name: Invalid value: \"http.alt\": must not contain dots" },
        { "EndpointSlice port names are labels", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv4\nports: [{name: HTTP, port: 80}]\n",
            "EndpointSlice default/s: ports[0].name: Invalid value: \"HTTP\": " + Dns1123LabelMsg },
        { "Endpoints port names are labels", "apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\nsubsets:\n- ports: [{name: http_alt, port: 80}]\n",
            "Endpoints default/e: subsets[0].ports[0].name: Invalid value: \"http_alt\": " + Dns1123LabelMsg },
        { "externalName with an en-dash pasted from a tutorial", "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {type: ExternalName, externalName: my.database\u2013example.com}\n",
            "Service default/db: spec.externalName: Invalid value: \"my.database\u2013example.com\": " + SubdomainMsg },
        { "externalName is lowercase; the trailing dot is trimmed before the check", "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {type: ExternalName, externalName: DB.example.com.}\n",
            "Service default/db: spec.externalName: Invalid value: \"DB.example.com\": " + SubdomainMsg },
        { "externalName of only a dot is empty", "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {type: ExternalName, externalName: .}\n",
            "Service default/db: spec.externalName: required for type ExternalName" },
        { "an unprintable character is quoted as Go's %q does", "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {type: ExternalName, externalName: \"db\\u200b.example.com\"}\n",
            "Service default/db: spec.externalName: Invalid value: \"db\\u200b.example.com\": " + SubdomainMsg },
    };

    [Theory]
    [MemberData(nameof(BadNames))]
    public void Names_are_refused_with_the_API_servers_message(string why, string yaml, string expected)
    {
        var (message, e) = Fails(yaml);
        Assert.True(why.Length > 0);
        Assert.Equal(expected, message);
        Assert.Equal("kube-apiserver", e.RefusedBy);
    }

    [Fact]
    public void Valid_external_names_and_names_load()
    {
        var m = Load("""
            apiVersion: v1
            kind: Service
            metadata: {name: db}
            spec: {type: ExternalName, externalName: my.database.example.com.}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: cache}
            spec: {type: ExternalName, externalName: redis}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web.v2}
            spec:
              selector: {matchLabels: {app: web}}
              template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c}]}}
            """);
        Assert.Equal(["my.database.example.com.", "redis"], m.Services.Select(s => s.ExternalName));
        Assert.Equal("web.v2", Assert.Single(m.Workloads).Name);
    }

    // ---- 4. JSON streams --------------------------------------------------------------------------------------------

    /// <summary>`kubectl get svc web -o json; kubectl get endpointslice web-x7k2p -o json` piped into one file.</summary>
    const string PrettyStream = """
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"clusterIP": "10.96.0.20", "ports": [{"name": "http", "port": 80, "targetPort": 8080}], "selector": {"app": "web"}}
        }
        {
            "addressType": "IPv4",
            "apiVersion": "discovery.k8s.io/v1",
            "endpoints": [{"addresses": ["10.244.1.5"], "conditions": {"ready": true}}],
            "kind": "EndpointSlice",
            "metadata": {"labels": {"kubernetes.io/service-name": "web"}, "name": "web-x7k2p", "namespace": "default"},
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]
        }
        """;

    [Fact]
    public void A_stream_of_pretty_printed_JSON_objects_loads_like_a_multi_document_file()
    {
        var m = Load(PrettyStream, name: "dump.json");
        Assert.Equal("default/web", Assert.Single(m.Services).Key);
        Assert.Equal("web-x7k2p", Assert.Single(m.EndpointSlices).Name);
        Assert.Equal(2, m.EndpointSlices[0].Document);
    }

    [Fact]
    public void Objects_back_to_back_and_jq_c_lines_load_in_order()
    {
        const string a = """{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"},"spec":{"ports":[{"port":80}]}}""";
        const string b = """{"apiVersion":"v1","kind":"Service","metadata":{"name":"b"},"spec":{"ports":[{"port":81}]}}""";
        const string c = """{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}""";
        Assert.Equal(["a", "b"], Load(a + b + c).Services.Select(s => s.Name));
        var m = Load(a + "\n" + b + "\n" + c + "\n", name: "objects.jsonl.json");
        Assert.Equal(["a", "b"], m.Services.Select(s => s.Name));
        Assert.Equal("n1", Assert.Single(m.Nodes).Name);
    }

    [Fact]
    public void Errors_in_a_JSON_stream_name_the_object_and_the_files_line()
    {
        const string a = """{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"},"spec":{"ports":[{"port":80}]}}""";
        Assert.Equal("Service default/b: spec.ports[0].port: 0 is not a valid port (1-65535)",
            Fails(a + "\n" + a.Replace("\"a\"", "\"b\"").Replace("80", "0")).Message);
        var (broken, brokenError) = Fails(a + "\n{\"apiVersion\": \"v1\",\n");
        Assert.StartsWith("document 2: line 3, column 1: JSON syntax error: Expected start of a property name or value", broken);
        Assert.DoesNotContain("LineNumber", broken); // the position is said once, in the file's terms
        Assert.Null(brokenError.RefusedBy); // the file's own syntax
        // A key written twice is strict decoding's error, from the document it is in and at the file's line.
        var (dup, _) = Fails(a + "\n\n" + a.Replace("\"kind\":\"Service\"", "\"kind\":\"Service\",\"kind\":\"Service\""));
        Assert.StartsWith("document 2: line 3, column ", dup);
        Assert.Contains("duplicate field \"kind\"", dup);
    }

    [Fact]
    public void YAML_streams_of_JSON_documents_and_flow_mappings_still_read_as_YAML()
    {
        const string a = """{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"},"spec":{"ports":[{"port":80}]}}""";
        Assert.Equal(2, Load(a + "\n---\n" + a.Replace("\"a\"", "\"b\"")).Services.Count);
        Assert.Equal("a", Assert.Single(Load("{apiVersion: v1, kind: Service, metadata: {name: a}, spec: {ports: [{port: 80}]}}\n").Services).Name);
        Assert.Equal("a", Assert.Single(Load(a + "\n# generated\n").Services).Name);
    }

    // ---- 5. a later input redefines an object -----------------------------------------------------------------------

    static string Svc(string name, int port, string ns = "default") =>
        $"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {{ports: [{{port: {port}}}]}}\n";

    [Fact]
    public void A_later_file_replaces_an_object_in_place_with_one_warning_naming_both_files()
    {
        using var dir = new ManifestDirectory();
        var a = dir.Write("a.yaml", Svc("first", 80) + "---\n" + Svc("web", 80) + "---\n" + Svc("last", 80));
        var b = dir.Write("b.yaml", Svc("web", 8080) + "---\n" + Svc("new", 80));
        var m = ManifestLoader.Load([a, b], null);
        Assert.Equal(["first", "web", "last", "new"], m.Services.Select(s => s.Name));
        Assert.Equal(8080, m.Services[1].Ports[0].Port);
        Assert.Equal(b, m.Services[1].SourceFile);
        var warning = Assert.Single(m.Warnings, w => w.Contains("defined again", StringComparison.Ordinal));
        Assert.Equal($"{b}: Service default/web: defined again (document 1); it replaces the definition in {a} (document 2), as kubectl apply applies its inputs in order and the later one wins", warning);

        // The same files as a folder load in ordinal order: the same result.
        var folder = ManifestLoader.Load(dir.Root);
        Assert.Equal(m.Services.Select(s => (s.Name, s.Ports[0].Port)), folder.Services.Select(s => (s.Name, s.Ports[0].Port)));
    }

    [Fact]
    public void A_duplicate_inside_one_file_is_applied_in_order_too_and_the_later_wins()
    {
        using var dir = new ManifestDirectory();
        var file = dir.Write("all.yaml", Svc("web", 80) + "---\n" + Svc("web", 80, "other") + "---\n" + Svc("web", 81) + "---\n" + Svc("web", 82));
        var m = ManifestLoader.Load(file);
        Assert.Equal([("default/web", 82), ("other/web", 80)], m.Services.Select(s => (s.Key, s.Ports[0].Port)));
        Assert.Equal([
            $"{file}: Service default/web: defined again (document 3); it replaces the definition in {file} (document 1), as kubectl apply applies its inputs in order and the later one wins",
            $"{file}: Service default/web: defined again (document 4); it replaces the definition in {file} (document 3), as kubectl apply applies its inputs in order and the later one wins",
        ], m.Warnings.Where(w => w.Contains("defined again", StringComparison.Ordinal)));
    }

    [Fact]
    public void Workloads_nodes_and_the_kube_proxy_ConfigMap_are_redefined_the_same_way()
    {
        const string deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  replicas: REPLICAS\n  selector: {matchLabels: {app: api}}\n  template: {metadata: {labels: {app: api}}, spec: {containers: [{name: c}]}}\n";
        const string proxy = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-proxy, namespace: kube-system}\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: MODE\n";
        using var dir = new ManifestDirectory();
        var a = dir.Write("a.yaml", deploy.Replace("REPLICAS", "1") + "---\napiVersion: v1\nkind: Node\nmetadata: {name: n1}\n---\n" + proxy.Replace("MODE", "iptables"));
        var b = dir.Write("b.yaml", deploy.Replace("REPLICAS", "3") + "---\napiVersion: v1\nkind: Node\nmetadata: {name: n1, labels: {zone: b}}\n---\n" + proxy.Replace("MODE", "nftables"));
        var m = ManifestLoader.Load([a, b], null);
        Assert.Equal(3, Assert.Single(m.Workloads).Replicas);
        Assert.Equal("b", Assert.Single(m.Nodes).Labels["zone"]);
        Assert.Equal(DataPlane.Kubernetes.Manifests.ProxyMode.NFTables, m.ProxyConfig.Mode);
        Assert.Equal(3, m.Warnings.Count(w => w.Contains("defined again", StringComparison.Ordinal) && w.Contains(a, StringComparison.Ordinal)));
    }

    // ---- 6. -n/--namespace ----------------------------------------------------------------------------------------

    /// <summary>Argo CD's install.yaml: namespaced objects without a namespace, meant for `kubectl apply -n argocd`.</summary>
    const string ArgoInstall = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: applications.argoproj.io
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: argocd-server
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata:
          name: argocd-server
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: argocd-cm
        ---
        apiVersion: v1
        kind: Service
        metadata:
          labels:
            app.kubernetes.io/name: argocd-server
          name: argocd-server
        spec:
          ports:
          - name: http
            port: 80
            protocol: TCP
            targetPort: 8080
          - name: https
            port: 443
            protocol: TCP
            targetPort: 8080
          selector:
            app.kubernetes.io/name: argocd-server
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: argocd-server
        spec:
          selector:
            matchLabels:
              app.kubernetes.io/name: argocd-server
          template:
            metadata:
              labels:
                app.kubernetes.io/name: argocd-server
            spec:
              containers:
              - name: argocd-server
                ports:
                - containerPort: 8080
        """;

    [Fact]
    public void Namespace_option_puts_objects_without_a_namespace_there()
    {
        var m = Load(ArgoInstall, new LoadOptions { Namespace = "argocd" });
        Assert.Equal("argocd/argocd-server", Assert.Single(m.Services).Key);
        Assert.Equal("argocd/argocd-server", Assert.Single(m.Workloads).Key);
        Assert.Contains("argocd", m.Namespaces);

        // Without it, "default" as before.
        Assert.Equal("default/argocd-server", Assert.Single(Load(ArgoInstall).Services).Key);
    }

    [Fact]
    public void An_object_in_another_namespace_is_kubectls_error_and_cluster_scoped_kinds_are_unaffected()
    {
        var (message, e) = Fails(Svc("web", 80, "a"), new LoadOptions { Namespace = "b" });
        Assert.Equal("Service a/web: metadata.namespace: the namespace from the provided object \"a\" does not match the namespace \"b\". You must pass '--namespace=a' to perform this operation.", message);
        Assert.Equal("kubectl", e.RefusedBy);
        // Skipped namespaced kinds are checked too: kubectl refuses before anything is applied.
        Assert.Contains("the namespace from the provided object \"a\" does not match the namespace \"b\"",
            Fails("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n", new LoadOptions { Namespace = "b" }).Message);

        var m = Load("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: other}
            ---
            apiVersion: v1
            kind: Node
            metadata: {name: n1, namespace: ignored}
            ---
            apiVersion: networking.k8s.io/v1
            kind: ServiceCIDR
            metadata: {name: kubernetes}
            spec: {cidrs: [10.96.0.0/12]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: b}
            spec: {ports: [{port: 80}]}
            """, new LoadOptions { Namespace = "b" });
        Assert.Null(Assert.Single(m.Nodes).Namespace);
        Assert.Null(Assert.Single(m.ServiceCidrs).Namespace);
        Assert.Equal("b/web", Assert.Single(m.Services).Key);
        Assert.Contains("other", m.Namespaces);
    }

    [Fact]
    public void The_kube_proxy_ConfigMap_without_a_namespace_is_found_under_n_kube_system()
    {
        const string proxy = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-proxy}\ndata:\n  config.conf: |\n    apiVersion: kubeproxy.config.k8s.io/v1alpha1\n    kind: KubeProxyConfiguration\n    mode: nftables\n";
        Assert.Equal(DataPlane.Kubernetes.Manifests.ProxyMode.NFTables, Load(proxy, new LoadOptions { Namespace = "kube-system" }).ProxyConfig.Mode);
        Assert.False(Load(proxy).HasProxyConfig);
    }
}
