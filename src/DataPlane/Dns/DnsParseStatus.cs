namespace DataPlane.Dns;

/// <summary>What <see cref="DnsParser.ParseQuery"/> made of a message.</summary>
public enum DnsParseStatus : byte
{
    /// <summary>One well-formed question (and at most one well-formed OPT).</summary>
    Ok,
    /// <summary>Malformed after a readable header: answered FORMERR (RFC 1035 §4.1.1).</summary>
    FormErr,
    /// <summary>An opcode other than QUERY: answered NOTIMP, as CoreDNS does for opcodes it has no plugin for.</summary>
    NotImp,
    /// <summary>Not answerable at all: shorter than a header (no id to echo), or a response (QR set; answering
    /// responses would let two servers loop). Silently dropped, as servers do.</summary>
    Ignore,
}
