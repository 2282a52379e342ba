namespace DataPlane.Dns;

/// <summary>Response codes (RFC 1035 §4.1.1; BADVERS is RFC 6891's extended code 16).</summary>
public static class DnsRcode
{
    public const int NoError = 0;
    public const int FormErr = 1;
    public const int ServFail = 2;
    public const int NXDomain = 3;
    public const int NotImp = 4;
    public const int Refused = 5;
    public const int BadVers = 16;

    public static string Name(int rcode) => rcode switch
    {
        NoError => "NOERROR",
        FormErr => "FORMERR",
        ServFail => "SERVFAIL",
        NXDomain => "NXDOMAIN",
        NotImp => "NOTIMP",
        Refused => "REFUSED",
        BadVers => "BADVERS",
        _ => "RCODE" + rcode,
    };
}
