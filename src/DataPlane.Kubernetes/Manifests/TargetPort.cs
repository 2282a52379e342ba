namespace DataPlane.Kubernetes.Manifests;

/// <summary>
/// Service port targetPort (IntOrString): a number, or the name of a container port that the endpoints controller
/// resolves per pod. Exactly one of <see cref="Number"/> (non-zero) and <see cref="Name"/> is set.
/// </summary>
public readonly record struct TargetPort(int Number, string? Name)
{
    public bool IsNamed => Name is not null;

    public override string ToString() => Name ?? Number.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
