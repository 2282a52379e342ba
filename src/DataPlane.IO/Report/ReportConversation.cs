namespace DataPlane.IO.Report;

/// <summary>
/// One conversation, with Wireshark's Conversations columns (address and port of each side, packets and bytes in all
/// and each way, relative start and duration, in seconds past the first frame) and what the data plane made of it:
/// the Service port, the backend, and its verdicts ("forward 12, drop 2 (ct-invalid)"). A conntrack flow is one
/// conversation whatever NAT did to its frames: A is its client, B the address it asked for.
/// <paramref name="Uncertainty"/>: frames that may belong to conversations this row replaced once the table was full
/// (the space-saving bound, see <see cref="ConversationTable"/>); 0 means the counts are exact.
/// </summary>
public sealed record ReportConversation(string Proto, string AddressA, int? PortA, string AddressB, int? PortB,
    long Packets, long Bytes, long PacketsAToB, long BytesAToB, long PacketsBToA, long BytesBToA,
    long RelStartNs, long DurationNs, string? Service, string? Backend, string Verdict, long FirstFrame, long Uncertainty);
