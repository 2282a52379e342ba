namespace DataPlane.Tests.Live;

/// <summary>
/// Manifests that must never take a data plane down, whatever the loader makes of them: each either loads or is
/// refused with one line. Built here from their description (what a careless or hostile operator would apply).
/// </summary>
static class HostileManifests
{
    /// <summary>Two Services sharing an externalIP:port (the API server accepts this; only one can own the frontend).</summary>
    public const string DuplicateExternalIp = """
        apiVersion: v1
        kind: Service
        metadata: {name: dup-a, namespace: default}
        spec:
          clusterIP: 10.96.0.201
          externalIPs: [203.0.113.50]
          ports: [{port: 80, protocol: TCP}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: dup-b, namespace: default}
        spec:
          clusterIP: 10.96.0.202
          externalIPs: [203.0.113.50]
          ports: [{port: 80, protocol: TCP}]
        """;

    /// <summary>Not YAML at all.</summary>
    public const string Garbage = "apiVersion: v1\nkind: Service\nmetadata: {name: x\n  spec: [\n\u0001\u0002";

    /// <summary>A one-line document nested <paramref name="depth"/> flow sequences deep (80 KB at 40 000).</summary>
    public static string Deep(int depth) => "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep, namespace: default}\ndata: " +
                                           new string('[', depth) + new string(']', depth) + "\n";

    /// <summary>A Service whose name is not a DNS label: the API server refuses it, so must we.</summary>
    public const string InvalidName = """
        apiVersion: v1
        kind: Service
        metadata: {name: Not_A_Label, namespace: default}
        spec:
          clusterIP: 10.96.0.203
          ports: [{port: 80, protocol: TCP}]
        """;

    public static IEnumerable<(string Name, string Text)> All()
    {
        yield return ("duplicate-external-ip.yaml", DuplicateExternalIp);
        yield return ("garbage.yaml", Garbage);
        yield return ("deep.yaml", Deep(25_000));
        yield return ("invalid-name.yaml", InvalidName);
        yield return ("binary.json", "{\"apiVersion\": \"v1\", \"kind\": \u0000\u00ff\u00fe");
    }
}
