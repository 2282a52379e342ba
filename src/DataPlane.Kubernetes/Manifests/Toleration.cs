namespace DataPlane.Kubernetes.Manifests;

/// <summary>A pod's spec.tolerations entry (v1 Toleration).</summary>
public readonly record struct Toleration(string? Key, string Operator, string? Value, string? Effect)
{
    /// <summary>
    /// v1 <c>Toleration.ToleratesTaint</c>: the effect matches (an empty effect matches all), the key matches (an empty
    /// key with Exists matches every taint), and Exists ignores the value while Equal compares it.
    /// </summary>
    public bool Tolerates(Taint taint)
    {
        if (!string.IsNullOrEmpty(Effect) && Effect != taint.Effect) return false;
        if (!string.IsNullOrEmpty(Key) && Key != taint.Key) return false;
        return Operator == "Exists" || (Value ?? "") == (taint.Value ?? "");
    }
}
