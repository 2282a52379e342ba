namespace DataPlane.Kubernetes.Inventory;

/// <summary>One (address, port) of a service's EndpointSlices, with its conditions and the pod holding the address.</summary>
public sealed record EndpointEntry(string IP, int? Port, string? PortName, bool Ready, bool Serving, bool Terminating, string? Node, string? Pod);
