namespace DataPlane.Kubernetes.Manifests;

/// <summary>core/v1 NodeAddressType.</summary>
public enum NodeAddressType { Hostname, InternalIP, ExternalIP, InternalDNS, ExternalDNS }
