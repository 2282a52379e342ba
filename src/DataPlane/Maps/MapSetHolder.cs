namespace DataPlane.Maps;

/// <summary>
/// The one mutable reference to the current generation. The control plane calls <see cref="Publish"/> (one atomic
/// reference swap, release semantics); packet workers call <see cref="Current"/> (acquire) once per packet or batch.
/// A failed compile never reaches here, so the data plane keeps its last good generation.
/// </summary>
public sealed class MapSetHolder
{
    MapSet _current;

    public MapSetHolder(MapSet initial) => _current = initial;

    public MapSet Current => Volatile.Read(ref _current);

    public void Publish(MapSet next) => Volatile.Write(ref _current, next);
}
