namespace DataPlane.Maps;

/// <summary>
/// Result of a map update. A full map is a status, not a resize: that is what a BPF map update returns (-E2BIG/-ENOMEM),
/// and what katran's addVip returns as false.
/// </summary>
public enum MapStatus : byte
{
    Ok = 0,
    Full = 1,
    /// <summary>The key (or one of a conntrack entry's two tuples) is already present: BPF_NOEXIST failed.</summary>
    Exists = 2,
}
