using DataPlane.Kubernetes;
using DataPlane.Kubernetes.Manifests;

namespace DataPlane.Fuzz;

/// <summary>
/// The manifest loader and compiler on arbitrary text, as YAML or (when it starts with '{' or '[') JSON: the only
/// acceptable failure is a <see cref="ManifestException"/> (one line naming file, object and field); anything else —
/// another exception, a hang, a stack overflow — is a finding.
/// </summary>
public sealed class ManifestHarness
{
    readonly string _dir = Directory.CreateTempSubdirectory("dp-fuzz-manifest-").FullName;

    public void Run(ReadOnlySpan<byte> input)
    {
        int first = 0;
        while (first < input.Length && input[first] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t') first++;
        bool json = first < input.Length && input[first] is (byte)'{' or (byte)'[';
        string path = Path.Combine(_dir, json ? "input.json" : "input.yaml");
        File.WriteAllBytes(path, input.ToArray());
        try
        {
            ControlPlane.LoadAndCompile(path, "node-1");
        }
        catch (ManifestException)
        {
            // The contract: a named, one-line error.
        }
    }
}
