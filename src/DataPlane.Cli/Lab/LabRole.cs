namespace DataPlane.Cli.Lab;

/// <summary>What a lab member is: a client namespace, a pod of the emulated node, or a pod (or endpoint address) elsewhere.</summary>
public enum LabRole : byte
{
    Client,
    LocalPod,
    RemotePod,
}
