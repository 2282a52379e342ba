using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace DataPlane.Kubernetes.Manifests;

/// <summary>Counts documents as they stream past, so a syntax error can say which document it is in.</summary>
internal sealed class DocumentCountingParser(IParser inner) : IParser
{
    /// <summary>Documents started so far; the one being parsed when an error occurs.</summary>
    public int Documents { get; private set; }

    public ParsingEvent? Current => inner.Current;

    public bool MoveNext()
    {
        bool moved = inner.MoveNext();
        if (moved && inner.Current is DocumentStart)
            Documents++;
        return moved;
    }
}
