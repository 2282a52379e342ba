using DataPlane.Kubernetes.Manifests;
using DataPlane.Packets;

namespace DataPlane.Kubernetes.Resolved;

/// <summary>One address:port/protocol of this node's that a service port answers on.</summary>
public sealed record ServiceFrontend(Service Service, int PortIndex, FrontendKind Kind, uint Address, int Port, PortProtocol Protocol)
{
    public ServicePort ServicePort => Service.Ports[PortIndex];
    public override string ToString() => $"{Service.Key}:{(ServicePort.Name.Length > 0 ? ServicePort.Name : ServicePort.Port.ToString())} {Kind} {Ip4.Format(Address)}:{Port}/{Protocol}";
}
