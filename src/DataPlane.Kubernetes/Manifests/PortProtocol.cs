namespace DataPlane.Kubernetes.Manifests;

/// <summary>core/v1 Protocol. Values are case-sensitive in the API ("tcp" is rejected).</summary>
public enum PortProtocol { TCP, UDP, SCTP }
