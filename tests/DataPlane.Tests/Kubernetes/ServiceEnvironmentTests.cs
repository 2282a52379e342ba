using DataPlane.Kubernetes.Compiler;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.Kubernetes;

/// <summary>The kubelet's service environment (pkg/kubelet/envvars): names, both variable styles, which services count.</summary>
public class ServiceEnvironmentTests
{
    const string Yaml = """
        apiVersion: v1
        kind: Service
        metadata: {name: kubernetes, namespace: default}
        spec: {clusterIP: 10.96.0.1, ports: [{name: https, port: 443, targetPort: 6443}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: my-svc, namespace: app}
        spec:
          clusterIP: 10.96.0.20
          ports:
          - {name: http-alt, port: 8080}
          - {name: dns, port: 53, protocol: UDP}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: headless, namespace: app}
        spec: {clusterIP: None, ports: [{port: 80}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: ext, namespace: app}
        spec: {type: ExternalName, externalName: example.com}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: elsewhere, namespace: other}
        spec: {clusterIP: 10.96.0.30, ports: [{port: 80}]}
        """;

    [Fact]
    public void Namespace_services_and_the_kubernetes_service_in_both_styles()
    {
        using var scratch = new TempDir("env");
        string dir = scratch.Path;
        File.WriteAllText(Path.Combine(dir, "s.yaml"), Yaml);
        var env = ServiceEnvironment.For(DataPlane.Kubernetes.Resolved.ResolvedCluster.Resolve(ManifestLoader.Load(dir)), "app").Select(kv => $"{kv.Key}={kv.Value}").ToArray();
        Assert.Equal(
        [
            "KUBERNETES_SERVICE_HOST=10.96.0.1",
            "KUBERNETES_SERVICE_PORT=443",
            "KUBERNETES_SERVICE_PORT_HTTPS=443",
            "KUBERNETES_PORT=tcp://10.96.0.1:443",
            "KUBERNETES_PORT_443_TCP=tcp://10.96.0.1:443",
            "KUBERNETES_PORT_443_TCP_PROTO=tcp",
            "KUBERNETES_PORT_443_TCP_PORT=443",
            "KUBERNETES_PORT_443_TCP_ADDR=10.96.0.1",
            "MY_SVC_SERVICE_HOST=10.96.0.20",
            "MY_SVC_SERVICE_PORT=8080",
            "MY_SVC_SERVICE_PORT_HTTP_ALT=8080",
            "MY_SVC_SERVICE_PORT_DNS=53",
            "MY_SVC_PORT=tcp://10.96.0.20:8080",
            "MY_SVC_PORT_8080_TCP=tcp://10.96.0.20:8080",
            "MY_SVC_PORT_8080_TCP_PROTO=tcp",
            "MY_SVC_PORT_8080_TCP_PORT=8080",
            "MY_SVC_PORT_8080_TCP_ADDR=10.96.0.20",
            "MY_SVC_PORT_53_UDP=udp://10.96.0.20:53",
            "MY_SVC_PORT_53_UDP_PROTO=udp",
            "MY_SVC_PORT_53_UDP_PORT=53",
            "MY_SVC_PORT_53_UDP_ADDR=10.96.0.20",
        ], env);
    }
}
