using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes.Resolved;

namespace DataPlane.Cli;

/// <summary>A pod named on the command line as <c>namespace/name</c> (or <c>name</c> in default), looked up in the resolved cluster.</summary>
public static class PodArg
{
    /// <summary>Whether <paramref name="text"/> is shaped like a pod reference rather than an address.</summary>
    public static bool IsPodRef(string text) => text.Contains('/') || (text.Length > 0 && char.IsLetter(text[0]) && !text.Contains(':'));

    public static Pod Find(ResolvedCluster c, string who, string option)
    {
        string[] parts = who.Split('/');
        if (parts.Length > 2 || parts.Any(p => p.Length == 0)) throw new UsageException($"{option}: '{who}' is not namespace/pod");
        (string ns, string name) = parts.Length == 2 ? (parts[0], parts[1]) : ("default", parts[0]);
        return c.Pod(ns, name) ?? throw new UsageException(
            $"{option}: no Pod {ns}/{name} in the cluster (pods in {ns}: {Names(c, ns)})");
    }

    static string Names(ResolvedCluster c, string ns)
    {
        string[] names = [.. c.Pods.Where(p => (p.Namespace ?? "default") == ns).Select(p => p.Name).Take(10)];
        return names.Length == 0 ? "none" : string.Join(", ", names);
    }
}
