namespace DataPlane.Kubernetes.Manifests;

/// <summary>discovery/v1 AddressType. Only IPv4 slices feed the IPv4 data plane.</summary>
public enum EndpointAddressType { IPv4, IPv6, FQDN }
