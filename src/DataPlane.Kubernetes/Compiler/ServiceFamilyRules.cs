using DataPlane.Kubernetes.Manifests;

namespace DataPlane.Kubernetes.Compiler;

/// <summary>
/// The API server's IP-family rules for a Service being created, given the cluster's service ranges: kube-apiserver's
/// <c>initIPFamilyFields</c> (pkg/registry/core/service/storage/alloc.go), which runs before any address is allocated.
/// What needs no knowledge of the cluster (known values, no duplicate family, each written cluster IP of its
/// ipFamilies entry's family, nothing on ExternalName) was already checked by the loader, as
/// ValidateServiceClusterIPsRelatedFields does (pkg/apis/core/validation/validation.go).
/// <para>
/// Errors are the API server's field errors, on one line with the file and object (<see cref="ManifestException"/>,
/// refused by kube-apiserver); the first one wins where the API server would list several.
/// </para>
/// </summary>
public static class ServiceFamilyRules
{
    /// <summary>The defaulted policy and families of <paramref name="s"/> on a cluster with <paramref name="cluster"/>'s ranges.</summary>
    public static ServiceFamilies Resolve(Service s, ServiceCidrInference cluster)
    {
        // "can not do anything here": ExternalName services have no family fields (the loader refused written ones).
        if (s.Type == ServiceType.ExternalName)
            return ServiceFamilies.None;

        bool headless = s.ClusterIPMode == ClusterIPMode.Headless;
        bool selectorless = s.Selector is null;
        // An unset policy is SingleStack on create, except that a headless service without a selector (whose
        // endpoints someone else writes, of any family) defaults to RequireDualStack.
        IPFamilyPolicy policy = s.IPFamilyPolicy ?? (headless && selectorless ? IPFamilyPolicy.RequireDualStack : IPFamilyPolicy.SingleStack);
        var families = new List<IPFamily>(s.IPFamilies);

        if (policy == IPFamilyPolicy.SingleStack)
        {
            if (s.WrittenClusterIPs.Count == 2)
                throw Error(s, "spec.ipFamilyPolicy", "Invalid value: \"SingleStack\": must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified");
            if (families.Count == 2)
                throw Error(s, "spec.ipFamilyPolicy", "Invalid value: \"SingleStack\": must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified");
        }

        // ipFamilies is inferred from clusterIPs where it is shorter; an address of a family the cluster lacks is
        // named here (a better error than the family's, upstream says).
        for (int i = 0; i < s.WrittenClusterIPs.Count; i++)
        {
            if (i < families.Count) continue;
            IPFamily family = s.WrittenClusterIPs[i].Family;
            if (!cluster.Has(family))
                throw Error(s, $"spec.clusterIPs[{i}]",
                    $"Invalid value: []string{{{string.Join(", ", s.WrittenClusterIPs.Select(ip => $"\"{ip}\""))}}}: {family} is not configured on this cluster{Hint(cluster)}");
            families.Add(family);
        }

        // Headless without a selector may hold families the cluster lacks: it gets the primary family, plus the other
        // one unless SingleStack, even on a single-stack cluster (nothing is allocated).
        if (headless && selectorless)
        {
            if (families.Count == 0)
                families.Add(cluster.Primary);
            if (families.Count < 2 && policy != IPFamilyPolicy.SingleStack)
                families.Add(Other(families[0]));
            return new ServiceFamilies(policy, families);
        }

        if (policy == IPFamilyPolicy.RequireDualStack && !cluster.IsDualStack)
            throw Error(s, "spec.ipFamilyPolicy", $"Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services{Hint(cluster)}");
        for (int i = 0; i < families.Count; i++)
            if (!cluster.Has(families[i]))
                throw Error(s, $"spec.ipFamilies[{i}]", $"Invalid value: \"{families[i]}\": not configured on this cluster{Hint(cluster)}");

        // No family: the cluster's default (its first --service-cluster-ip-range); a dual-stack policy on a dual-stack
        // cluster gets the other family too. PreferDualStack on a single-stack cluster stays single.
        if (families.Count == 0)
            families.Add(cluster.Primary);
        if (policy != IPFamilyPolicy.SingleStack && families.Count == 1 && cluster.IsDualStack)
            families.Add(Other(families[0]));
        return new ServiceFamilies(policy, families);
    }

    static IPFamily Other(IPFamily f) => f == IPFamily.IPv4 ? IPFamily.IPv6 : IPFamily.IPv4;

    /// <summary>Not upstream's: where the emulated cluster's ranges came from, and how to make it dual-stack.</summary>
    static string Hint(ServiceCidrInference cluster) =>
        $"; the emulated cluster's service CIDRs are {string.Join(", ", cluster.RangeTexts)}, {cluster.Origin}: a ServiceCIDR object or --service-cidr with one range per family makes it dual-stack";

    static ManifestException Error(Service s, string field, string problem) =>
        new(s.SourceFile, $"Service {s.Key}", field, problem) { RefusedBy = "kube-apiserver" };
}
