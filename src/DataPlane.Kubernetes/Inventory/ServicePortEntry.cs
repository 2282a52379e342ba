namespace DataPlane.Kubernetes.Inventory;

/// <summary>One service port; <see cref="TargetPort"/> is a number or a container port name; NodePort as allocated.</summary>
public sealed record ServicePortEntry(string Name, int Port, string Protocol, string TargetPort, int? NodePort);
