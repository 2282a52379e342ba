using YamlDotNet.RepresentationModel;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>
/// The fields the API knows for each kind DataPlane reads (from the k8s.io/api types), to report fields it does not
/// know, as <c>kubectl apply --validate=warn</c> does: a typo such as <c>replica: 3</c> is visible, not silently
/// ignored. Fields we do not read but the API knows are not reported. Notation: <c>name</c> a field, <c>name{…}</c> a
/// mapping with these fields, <c>name[…]</c> a list of such mappings, <c>*</c> anything (free-form maps such as labels,
/// and subtrees DataPlane does not look into).
/// </summary>
internal static class ManifestSchema
{
    const string Meta = "metadata{name generateName namespace selfLink uid resourceVersion generation creationTimestamp " +
        "deletionTimestamp deletionGracePeriodSeconds labels{*} annotations{*} ownerReferences[*] finalizers[*] managedFields[*]}";

    const string Container = "name image command[*] args[*] workingDir ports[name hostPort containerPort protocol hostIP] envFrom[*] env[*] " +
        "resources{*} resizePolicy[*] restartPolicy restartPolicyRules[*] volumeMounts[*] volumeDevices[*] livenessProbe{*} readinessProbe{*} " +
        "startupProbe{*} lifecycle{*} terminationMessagePath terminationMessagePolicy imagePullPolicy securityContext{*} stdin stdinOnce tty";

    /// <summary>PodSpec (also a workload's spec.template.spec).</summary>
    public const string PodSpec = "volumes[*] initContainers[" + Container + "] containers[" + Container + "] ephemeralContainers[*] " +
        "restartPolicy terminationGracePeriodSeconds activeDeadlineSeconds dnsPolicy nodeSelector{*} serviceAccountName serviceAccount " +
        "automountServiceAccountToken nodeName hostNetwork hostPID hostIPC shareProcessNamespace securityContext{*} imagePullSecrets[*] " +
        "hostname subdomain affinity{*} schedulerName tolerations[*] hostAliases[*] priorityClassName priority dnsConfig{*} readinessGates[*] " +
        "runtimeClassName enableServiceLinks preemptionPolicy overhead{*} topologySpreadConstraints[*] setHostnameAsFQDN os{*} hostUsers " +
        "schedulingGates[*] resourceClaims[*] resources{*} hostnameOverride";

    static readonly Dictionary<string, Node> s_kinds = new(StringComparer.Ordinal)
    {
        ["Service"] = Parse("apiVersion kind " + Meta + " spec{type clusterIP clusterIPs[*] ports[name protocol appProtocol port targetPort nodePort] " +
            "selector{*} externalIPs[*] sessionAffinity sessionAffinityConfig{clientIP{timeoutSeconds}} loadBalancerIP loadBalancerSourceRanges[*] " +
            "loadBalancerClass externalName externalTrafficPolicy internalTrafficPolicy healthCheckNodePort publishNotReadyAddresses ipFamilies[*] " +
            "ipFamilyPolicy allocateLoadBalancerNodePorts trafficDistribution} status{*}"),
        ["EndpointSlice"] = Parse("apiVersion kind " + Meta + " addressType endpoints[addresses[*] conditions{ready serving terminating} hostname " +
            "targetRef{*} nodeName zone hints{*} deprecatedTopology{*}] ports[name protocol port appProtocol]"),
        ["Endpoints"] = Parse("apiVersion kind " + Meta + " subsets[addresses[ip hostname nodeName targetRef{*}] notReadyAddresses[ip hostname nodeName targetRef{*}] " +
            "ports[name port protocol appProtocol]]"),
        ["Pod"] = Parse("apiVersion kind " + Meta + " spec{" + PodSpec + "} status{*}"),
        ["Node"] = Parse("apiVersion kind " + Meta + " spec{podCIDR podCIDRs[*] providerID unschedulable taints[*] configSource{*} externalID} status{*}"),
        // apps/v1 and core/v1 workloads: their spec.template.spec is a PodSpec, so a typo such as `replica: 3` is reported.
        ["Deployment"] = Parse("apiVersion kind " + Meta + " spec{replicas selector{*} template{metadata{*} spec{" + PodSpec + "}} strategy{*} " +
            "minReadySeconds revisionHistoryLimit paused progressDeadlineSeconds} status{*}"),
        ["ReplicaSet"] = Parse("apiVersion kind " + Meta + " spec{replicas minReadySeconds selector{*} template{metadata{*} spec{" + PodSpec + "}}} status{*}"),
        ["ReplicationController"] = Parse("apiVersion kind " + Meta + " spec{replicas minReadySeconds selector{*} template{metadata{*} spec{" + PodSpec + "}}} status{*}"),
        ["StatefulSet"] = Parse("apiVersion kind " + Meta + " spec{replicas selector{*} template{metadata{*} spec{" + PodSpec + "}} volumeClaimTemplates[*] " +
            "serviceName podManagementPolicy updateStrategy{*} revisionHistoryLimit minReadySeconds persistentVolumeClaimRetentionPolicy{*} ordinals{*}} status{*}"),
        ["DaemonSet"] = Parse("apiVersion kind " + Meta + " spec{selector{*} template{metadata{*} spec{" + PodSpec + "}} updateStrategy{*} minReadySeconds " +
            "revisionHistoryLimit} status{*}"),
        ["ServiceCIDR"] = Parse("apiVersion kind " + Meta + " spec{cidrs[*]} status{*}"),
        ["Namespace"] = Parse("apiVersion kind " + Meta + " spec{*} status{*}"),
        ["ConfigMap"] = Parse("apiVersion kind " + Meta + " data{*} binaryData{*} immutable"),
        // k8s.io/kube-proxy/config/v1alpha1 KubeProxyConfiguration; the sections DataPlane does not read are free-form.
        ["KubeProxyConfiguration"] = Parse("apiVersion kind metadata{*} featureGates{*} clientConnection{*} logging{*} hostnameOverride bindAddress " +
            "healthzBindAddress metricsBindAddress bindAddressHardFail enableProfiling showHiddenMetricsForVersion mode " +
            "iptables{masqueradeAll masqueradeBit localhostNodePorts syncPeriod minSyncPeriod} ipvs{*} nftables{masqueradeAll masqueradeBit syncPeriod minSyncPeriod} " +
            "winkernel{*} detectLocalMode detectLocal{*} clusterCIDR nodePortAddresses[*] oomScoreAdj conntrack{*} configSyncPeriod portRange " +
            "windowsRunAsService syncPeriod minSyncPeriod masqueradeAll"),
    };

    /// <summary>Calls <paramref name="report"/> with the dotted path of every field of <paramref name="obj"/> the API does not know for <paramref name="kind"/>.</summary>
    public static void Check(string kind, YamlNode obj, Action<string> report)
    {
        if (s_kinds.TryGetValue(kind, out var schema))
            Walk(obj, schema, "", report);
    }

    /// <summary>Checks a node against a schema fragment in the notation above (for kinds whose readers live elsewhere).</summary>
    public static void Check(YamlNode node, string schema, string path, Action<string> report) => Walk(node, Parse(schema), path, report);

    sealed class Node
    {
        public Dictionary<string, Node>? Fields; // null: anything
        public bool IsList;
    }

    static void Walk(YamlNode node, Node schema, string path, Action<string> report)
    {
        if (schema.Fields is null)
            return;
        if (schema.IsList)
        {
            if (node is not YamlSequenceNode seq)
                return; // wrong shapes are the readers' errors
            int i = 0;
            foreach (var item in seq.Children)
                WalkMap(item, schema.Fields, $"{path}[{i++}]", report);
            return;
        }
        WalkMap(node, schema.Fields, path, report);
    }

    static void WalkMap(YamlNode node, Dictionary<string, Node> fields, string path, Action<string> report)
    {
        if (node is not YamlMappingNode map)
            return;
        foreach (var (k, v) in map.Children)
        {
            string key = ((YamlScalarNode)k).Value ?? "";
            string child = path.Length == 0 ? key : path + "." + key;
            if (fields.TryGetValue(key, out var sub))
                Walk(v, sub, child, report);
            else
                report(child);
        }
    }

    /// <summary>Parses the notation; schemas are ours and shallow, so recursion is fine here.</summary>
    static Node Parse(string text)
    {
        int pos = 0;
        var node = ParseFields(text, ref pos, '\0');
        return node;
    }

    static Node ParseFields(string text, ref int pos, char close)
    {
        var fields = new Dictionary<string, Node>(StringComparer.Ordinal);
        while (pos < text.Length)
        {
            char c = text[pos];
            if (c == ' ') { pos++; continue; }
            if (c == close) { pos++; break; }
            if (c == '*')
            {
                pos++;
                // "{*}" / "[*]": anything inside.
                while (pos < text.Length && text[pos] == ' ') pos++;
                if (pos < text.Length && text[pos] == close) pos++;
                return new Node { Fields = null };
            }
            int start = pos;
            while (pos < text.Length && text[pos] is not (' ' or '{' or '[' or '}' or ']')) pos++;
            string name = text[start..pos];
            Node child;
            if (pos < text.Length && text[pos] == '{') { pos++; child = ParseFields(text, ref pos, '}'); }
            else if (pos < text.Length && text[pos] == '[')
            {
                pos++;
                var inner = ParseFields(text, ref pos, ']');
                child = new Node { Fields = inner.Fields, IsList = inner.Fields is not null };
            }
            else child = new Node { Fields = null };
            fields[name] = child;
        }
        return new Node { Fields = fields };
    }
}
