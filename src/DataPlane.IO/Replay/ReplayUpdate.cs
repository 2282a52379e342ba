namespace DataPlane.IO.Replay;

/// <summary>
/// A configuration change during a replay (a <c>kubectl apply</c> at a point of the capture's clock): applied just
/// before the first frame at least <paramref name="AfterNs"/> after the capture's first frame. <paramref name="Apply"/>
/// publishes a new generation and returns null, or returns the error that left the last good one in place.
/// </summary>
public sealed record ReplayUpdate(long AfterNs, string Label, Func<string?> Apply);
