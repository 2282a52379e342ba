namespace DataPlane.Pipeline;

/// <summary>
/// Whether the runner records a stage log, as a type argument (ASP.NET Kestrel's trick for its connection loggers): the
/// runner is generic over a struct, so the JIT compiles one copy per sink with <see cref="Enabled"/> a constant; the
/// untraced copy has no recording code at all, not even a null test.
/// </summary>
public interface IStageSink
{
    static abstract bool Enabled { get; }
}

/// <summary>Replay and live: nothing recorded.</summary>
public struct Untraced : IStageSink
{
    public static bool Enabled => false;
}

/// <summary>trace and replay --explain: every stage recorded into <see cref="PacketContext.Log"/>.</summary>
public struct Traced : IStageSink
{
    public static bool Enabled => true;
}
