namespace DataPlane.Kubernetes.Manifests;

/// <summary>A status.addresses[] entry. <see cref="IP"/> is set for InternalIP/ExternalIP; IPv6 IP entries are dropped.</summary>
public readonly record struct NodeAddress(NodeAddressType Type, string Address, uint? IP);
