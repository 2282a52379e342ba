namespace DataPlane.Kubernetes.Manifests;

/// <summary>How the API server validates an object's metadata.name (apimachinery <c>ValidateObjectMeta</c>'s nameFn).</summary>
internal enum NameRule
{
    /// <summary>Not checked here (RBAC's path-segment names, CRDs' plural.group, review kinds…).</summary>
    Unchecked,

    /// <summary><c>NameIsDNSSubdomain</c>: most kinds.</summary>
    Subdomain,

    /// <summary><c>NameIsDNSLabel</c>: Namespace, StatefulSet.</summary>
    Label,

    /// <summary><c>NameIsDNS1035Label</c>: Service (its name is a DNS label that must not start with a digit).</summary>
    Dns1035Label,
}

/// <summary>One kind the API server serves under a group/version: whether it lives in a namespace, and its name rule.</summary>
internal sealed record ServedKind(bool Namespaced, NameRule Name);

/// <summary>
/// The kinds each built-in group/version serves — what a default kube-apiserver's discovery (<c>kubectl
/// api-resources</c>) lists in Kubernetes 1.34, plus kube-proxy's own configuration file kind. It decides, for each
/// object read, one of three things:
/// <list type="bullet">
/// <item>served: a kind DataPlane models is read, any other is skipped with the notice;</item>
/// <item>not served in a built-in group (a typo such as <c>v1</c> <c>LoadBalancer</c>, a removed version such as
/// <c>discovery.k8s.io/v1beta1</c> or <c>extensions/v1beta1</c>, a kind under the wrong group): the API server's REST
/// mapper finds nothing and kubectl prints <c>no matches for kind "K" in version "g/v"</c>
/// (apimachinery <c>meta.NoKindMatchError</c>);</item>
/// <item>another group: a CRD, which DataPlane skips with the notice (it cannot know what the cluster installed).</item>
/// </list>
/// Beta and alpha versions that a default API server does not serve are left out on purpose (they are off by default
/// since Kubernetes 1.24), except networking.k8s.io/v1beta1 ServiceCIDR, which clusters of 1.31-1.32 dump.
/// </summary>
internal static class ServedKinds
{
    static readonly ServedKind NsSub = new(true, NameRule.Subdomain);
    static readonly ServedKind Ns = new(true, NameRule.Unchecked);
    static readonly ServedKind ClusterSub = new(false, NameRule.Subdomain);
    static readonly ServedKind Cluster = new(false, NameRule.Unchecked);

    /// <summary>group/version ("v1" for the core group) → kind → what the API server knows of it.</summary>
    static readonly Dictionary<string, Dictionary<string, ServedKind>> s_served = new(StringComparer.Ordinal)
    {
        ["v1"] = new(StringComparer.Ordinal)
        {
            ["Binding"] = Ns,
            ["ComponentStatus"] = Cluster,
            ["ConfigMap"] = NsSub,
            ["Endpoints"] = NsSub,
            ["Event"] = Ns,
            ["LimitRange"] = NsSub,
            ["Namespace"] = new(false, NameRule.Label),
            ["Node"] = ClusterSub,
            ["PersistentVolume"] = ClusterSub,
            ["PersistentVolumeClaim"] = NsSub,
            ["Pod"] = NsSub,
            ["PodTemplate"] = NsSub,
            ["ReplicationController"] = NsSub,
            ["ResourceQuota"] = NsSub,
            ["Secret"] = NsSub,
            ["Service"] = new(true, NameRule.Dns1035Label),
            ["ServiceAccount"] = NsSub,
        },
        ["apps/v1"] = new(StringComparer.Ordinal)
        {
            ["ControllerRevision"] = NsSub,
            ["DaemonSet"] = NsSub,
            ["Deployment"] = NsSub,
            ["ReplicaSet"] = NsSub,
            // pkg/apis/apps/validation ValidateStatefulSetName: a DNS label, since its pods' hostnames are <name>-<ordinal>.
            ["StatefulSet"] = new(true, NameRule.Label),
        },
        ["batch/v1"] = new(StringComparer.Ordinal) { ["CronJob"] = NsSub, ["Job"] = NsSub },
        ["autoscaling/v1"] = new(StringComparer.Ordinal) { ["HorizontalPodAutoscaler"] = NsSub },
        ["autoscaling/v2"] = new(StringComparer.Ordinal) { ["HorizontalPodAutoscaler"] = NsSub },
        ["networking.k8s.io/v1"] = new(StringComparer.Ordinal)
        {
            ["Ingress"] = NsSub,
            ["IngressClass"] = ClusterSub,
            ["IPAddress"] = Cluster,
            ["NetworkPolicy"] = NsSub,
            ["ServiceCIDR"] = ClusterSub,
        },
        ["networking.k8s.io/v1beta1"] = new(StringComparer.Ordinal) { ["IPAddress"] = Cluster, ["ServiceCIDR"] = ClusterSub },
        ["discovery.k8s.io/v1"] = new(StringComparer.Ordinal) { ["EndpointSlice"] = NsSub },
        ["policy/v1"] = new(StringComparer.Ordinal) { ["PodDisruptionBudget"] = NsSub },
        ["rbac.authorization.k8s.io/v1"] = new(StringComparer.Ordinal)
        {
            // RBAC names are path segments (ValidateRBACName): "system:aggregate-to-admin" is valid.
            ["ClusterRole"] = Cluster,
            ["ClusterRoleBinding"] = Cluster,
            ["Role"] = Ns,
            ["RoleBinding"] = Ns,
        },
        ["storage.k8s.io/v1"] = new(StringComparer.Ordinal)
        {
            ["CSIDriver"] = Cluster,
            ["CSINode"] = Cluster,
            ["CSIStorageCapacity"] = Ns,
            ["StorageClass"] = ClusterSub,
            ["VolumeAttachment"] = Cluster,
            ["VolumeAttributesClass"] = Cluster,
        },
        ["apiextensions.k8s.io/v1"] = new(StringComparer.Ordinal) { ["CustomResourceDefinition"] = Cluster },
        ["apiregistration.k8s.io/v1"] = new(StringComparer.Ordinal) { ["APIService"] = Cluster },
        ["admissionregistration.k8s.io/v1"] = new(StringComparer.Ordinal)
        {
            ["MutatingWebhookConfiguration"] = Cluster,
            ["ValidatingWebhookConfiguration"] = Cluster,
            ["ValidatingAdmissionPolicy"] = Cluster,
            ["ValidatingAdmissionPolicyBinding"] = Cluster,
        },
        ["coordination.k8s.io/v1"] = new(StringComparer.Ordinal) { ["Lease"] = NsSub },
        ["scheduling.k8s.io/v1"] = new(StringComparer.Ordinal) { ["PriorityClass"] = ClusterSub },
        ["node.k8s.io/v1"] = new(StringComparer.Ordinal) { ["RuntimeClass"] = ClusterSub },
        ["certificates.k8s.io/v1"] = new(StringComparer.Ordinal) { ["CertificateSigningRequest"] = Cluster },
        ["events.k8s.io/v1"] = new(StringComparer.Ordinal) { ["Event"] = Ns },
        ["flowcontrol.apiserver.k8s.io/v1"] = new(StringComparer.Ordinal)
        {
            ["FlowSchema"] = Cluster,
            ["PriorityLevelConfiguration"] = Cluster,
        },
        ["authentication.k8s.io/v1"] = new(StringComparer.Ordinal) { ["SelfSubjectReview"] = Cluster, ["TokenReview"] = Cluster },
        ["authorization.k8s.io/v1"] = new(StringComparer.Ordinal)
        {
            ["LocalSubjectAccessReview"] = Ns,
            ["SelfSubjectAccessReview"] = Cluster,
            ["SelfSubjectRulesReview"] = Cluster,
            ["SubjectAccessReview"] = Cluster,
        },
        ["resource.k8s.io/v1"] = new(StringComparer.Ordinal)
        {
            ["DeviceClass"] = Cluster,
            ["ResourceClaim"] = Ns,
            ["ResourceClaimTemplate"] = Ns,
            ["ResourceSlice"] = Cluster,
        },
        // Not an API server group: kube-proxy's --config file (k8s.io/kube-proxy/config/v1alpha1), decoded by its scheme.
        ["kubeproxy.config.k8s.io/v1alpha1"] = new(StringComparer.Ordinal) { ["KubeProxyConfiguration"] = Cluster },
    };

    /// <summary>
    /// Built-in groups without a served version today (extensions/v1beta1 Deployments and Ingresses of old tutorials):
    /// still built-in, so their kinds are "no matches", never mistaken for a CRD.
    /// </summary>
    static readonly HashSet<string> s_removedGroups = new(StringComparer.Ordinal) { "extensions" };

    static readonly HashSet<string> s_groups = new(
        s_served.Keys.Select(GroupOf).Concat(s_removedGroups), StringComparer.Ordinal);

    /// <summary>The API group of an apiVersion: "" for "v1", "apps" for "apps/v1".</summary>
    public static string GroupOf(string apiVersion) => apiVersion.Contains('/') ? apiVersion[..apiVersion.IndexOf('/')] : "";

    /// <summary>Whether the group is one of the API server's own (or kube-proxy's), as opposed to a CRD's.</summary>
    public static bool IsBuiltInGroup(string group) => s_groups.Contains(group);

    /// <summary>What the API server knows of kind under apiVersion; null when it does not serve it there.</summary>
    public static ServedKind? Find(string apiVersion, string kind) =>
        s_served.TryGetValue(apiVersion, out var kinds) && kinds.TryGetValue(kind, out var k) ? k : null;

    /// <summary>Every group/version that serves a kind of this name, in table order ("apps/v1" for Deployment).</summary>
    public static IEnumerable<string> VersionsServing(string kind) =>
        s_served.Where(gv => gv.Value.ContainsKey(kind)).Select(gv => gv.Key);

    /// <summary>Whether some built-in group other than <paramref name="group"/> serves a kind of this name.</summary>
    public static bool IsBuiltInKindOfAnotherGroup(string kind, string group) =>
        VersionsServing(kind).Any(gv => GroupOf(gv) != group);
}
