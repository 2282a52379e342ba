namespace DataPlane.Maps;

/// <summary>The frontend a rev_nat_index stands for (cilium <c>struct lb4_reverse_nat</c>).</summary>
public readonly record struct Lb4ReverseNat(uint Address, ushort Port, byte Proto);
