namespace DataPlane.Kubernetes.Resolved;

/// <summary>
/// The promise for one client: the outcome; when served, the endpoints (address, port) one of which answers, whether the
/// endpoint sees the client's own address, and whether every connection from the client reaches the same one
/// (sessionAffinity ClientIP); <see cref="Rule"/> says which rule decided, in Kubernetes' words.
/// </summary>
public sealed record ServicePromise(PromisedOutcome Outcome, IReadOnlyList<(uint Address, int Port)> Endpoints, bool ClientAddressKept, bool OneEndpoint, string Rule);
