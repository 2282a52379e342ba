using System.Buffers;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Text;

namespace DataPlane.IO.Tap;

/// <summary>What <see cref="TapDevice.Poll"/> saw.</summary>
public enum TapPoll : byte
{
    /// <summary>A frame is waiting.</summary>
    Readable,
    /// <summary>Nothing arrived within the timeout (or a signal interrupted the wait).</summary>
    Timeout,
    /// <summary>The device went away (deleted, or its namespace destroyed): tun reports POLLERR once detached.</summary>
    Gone,
}

/// <summary>
/// The wire side of a Linux TAP device: one <c>/dev/net/tun</c> descriptor attached with TUNSETIFF (IFF_TAP | IFF_NO_PI),
/// so each read(2) is exactly one Ethernet frame the kernel sent out of the interface and each write(2) is one frame
/// the kernel receives on it. Frames are read into and written from the caller's spans; nothing is allocated per frame.
/// <para>
/// Either attaches to an existing persistent device (<c>ip tuntap add mode tap name X</c>, the usual case: addresses,
/// routes and neighbours are configured on it beforehand) or, with <c>create</c>, creates a transient one that
/// vanishes when this descriptor is closed. TUNSETIFF looks the name up in the caller's network namespace and silently
/// creates a new device when it is absent, so attaching checks that the device existed and is persistent
/// (toolchain-notes §3, "Namespace").
/// </para>
/// <para>
/// Without <c>offload</c> (no IFF_VNET_HDR, no TUNSETOFFLOAD) the device advertises no checksum or segmentation
/// offload, so the kernel completes checksums and segments GSO packets into MTU-sized frames before one reaches us,
/// and expects complete frames back: a read(2) and a write(2) per 1.5 KB of a bulk stream. With it, every frame both
/// ways carries a <see cref="VnetHeader"/> and the device takes checksum offload and TSO for IPv4 and IPv6, as a
/// virtio NIC does (what QEMU and vhost-net ask of a TAP): a bulk TCP stream arrives in GSO packets of up to 64 KB.
/// </para>
/// <para>Concurrency: one reader/writer thread (the live loop); <see cref="Dispose"/> after that thread has stopped.</para>
/// </summary>
public sealed unsafe class TapDevice : IDisposable
{
    // linux/if_tun.h: ioctl requests (_IOW('T', 202, int) and _IOR('T', 210, unsigned int)) and ifr_flags bits.
    const nuint TUNSETIFF = 0x400454CA;
    const nuint TUNGETIFF = 0x800454D2;
    const short IFF_TAP = 0x0002;
    const short IFF_NO_PI = 0x1000;
    const short IFF_PERSIST = 0x0800;
    const short IFF_VNET_HDR = 0x4000;
    // _IOW('T', 208, unsigned int); its argument is the flag word itself, not a pointer (tun.c __tun_chr_ioctl).
    const nuint TUNSETOFFLOAD = 0x400454D0;
    const uint TUN_F_CSUM = 0x01, TUN_F_TSO4 = 0x02, TUN_F_TSO6 = 0x04, TUN_F_TSO_ECN = 0x08;
    // linux/sockios.h and linux/if.h: to bring up a device we created.
    const nuint SIOCGIFFLAGS = 0x8913;
    const nuint SIOCSIFFLAGS = 0x8914;
    const short IFF_UP = 0x1;
    // struct ifreq: 16-byte name (IFNAMSIZ, NUL-terminated), then the union whose first member is short ifr_flags.
    const int IfReqSize = 40;
    const int IfNameSize = 16;
    const int IfReqFlagsOffset = 16;

    const string TunPath = "/dev/net/tun";

    int _fd; // the attached /dev/net/tun descriptor; -1 once closed

    TapDevice(int fd, string name, bool created, string? netns, uint ifIndex, bool offload)
    {
        _fd = fd;
        Offload = offload;
        Name = name;
        Created = created;
        Namespace = netns;
        IfIndex = ifIndex;
    }

    /// <summary>Interface name (at most 15 bytes).</summary>
    public string Name { get; }
    /// <summary>True when this process created the device (transient: it disappears on <see cref="Dispose"/>).</summary>
    public bool Created { get; }
    /// <summary>The network namespace the device lives in (name or path), null for the process's own.</summary>
    public string? Namespace { get; }
    /// <summary>The kernel's interface index, inside <see cref="Namespace"/>.</summary>
    public uint IfIndex { get; }
    /// <summary>Every frame read and written starts with a <see cref="VnetHeader"/>; checksum offload and TSO are on.</summary>
    public bool Offload { get; }

    /// <summary>
    /// Attaches to TAP <paramref name="name"/> (or creates it when <paramref name="create"/> and it is absent) in
    /// network namespace <paramref name="netns"/>: a name under /run/netns (what <c>ip netns add</c> makes) or a path
    /// such as /proc/PID/ns/net; null for the caller's own namespace. Throws <see cref="TapException"/> with an
    /// actionable message.
    /// </summary>
    public static TapDevice Open(string name, bool create = false, string? netns = null, bool offload = false)
    {
        ValidateName(name);
        return netns is null ? OpenHere(name, create, null, offload) : OpenInNamespace(name, create, netns, offload);
    }

    /// <summary>
    /// The descriptor belongs to the namespace of the thread that opened /dev/net/tun (the tun file's socket records it
    /// at open), and setns(2) changes only the calling thread. So the open runs on a throwaway thread that enters the
    /// namespace first and then ends: no runtime thread ever changes namespace, and the descriptor keeps working from
    /// any thread afterwards.
    /// </summary>
    static TapDevice OpenInNamespace(string name, bool create, string netns, bool offload)
    {
        string path = netns.Contains('/') ? netns : "/run/netns/" + netns;
        TapDevice? device = null;
        Exception? error = null;
        var t = new Thread(() =>
        {
            try
            {
                int nsFd = Libc.Open(path, Libc.O_CLOEXEC); // O_RDONLY = 0
                if (nsFd < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    throw new TapException(errno == Libc.ENOENT
                        ? $"network namespace '{netns}' not found ({path}; create it with `ip netns add {netns}`)"
                        : $"network namespace '{netns}': cannot open {path}: {Libc.Describe(errno)}", errno);
                }
                try
                {
                    if (Libc.SetNs(nsFd, Libc.CLONE_NEWNET) != 0)
                    {
                        int errno = Marshal.GetLastPInvokeError();
                        throw new TapException($"cannot enter network namespace '{netns}': {Libc.Describe(errno)}" +
                                               (errno == Libc.EPERM ? " (needs root / CAP_SYS_ADMIN)" : ""), errno);
                    }
                }
                finally
                {
                    Libc.Close(nsFd);
                }
                device = OpenHere(name, create, netns, offload);
            }
            catch (Exception e)
            {
                error = e;
            }
        })
        { IsBackground = true, Name = "tap-open-netns" };
        t.Start();
        t.Join();
        if (error is not null) ExceptionDispatchInfo.Throw(error);
        return device!;
    }

    static TapDevice OpenHere(string name, bool create, string? netns, bool offload)
    {
        string where = netns is null ? "in this network namespace" : $"in network namespace '{netns}'";
        bool existed = Libc.IfNameToIndex(name) != 0;
        if (!existed && !create)
            throw new TapException($"no TAP device '{name}' {where}: create it first (`ip tuntap add mode tap name {name}`" +
                                   (netns is null ? "" : $" run with `ip netns exec {netns}` or `ip -n {netns}`") +
                                   ") or pass --create for a transient one", Libc.ENODEV);

        int fd = Libc.Open(TunPath, Libc.O_RDWR | Libc.O_CLOEXEC | Libc.O_NONBLOCK);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new TapException(errno switch
            {
                Libc.ENOENT or Libc.ENODEV => $"{TunPath} is missing: load the tun module (`modprobe tun`)",
                Libc.EACCES or Libc.EPERM => $"{TunPath}: permission denied (run as root or with CAP_NET_ADMIN)",
                _ => $"{TunPath}: {Libc.Describe(errno)}",
            }, errno);
        }
        try
        {
            byte* ifr = stackalloc byte[IfReqSize];
            FillIfReq(new Span<byte>(ifr, IfReqSize), name, (short)(IFF_TAP | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0)));
            if (Libc.Ioctl(fd, TUNSETIFF, ifr) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new TapException(errno switch
                {
                    Libc.EBUSY => $"TAP '{name}' {where} is already attached to another process (a single-queue TAP takes one reader)",
                    Libc.EINVAL => $"'{name}' {where} exists but is not a TAP device (a TUN device, or another kind of interface?)",
                    Libc.EPERM => $"no permission to attach TAP '{name}' (run as root or with CAP_NET_ADMIN)",
                    _ => $"TUNSETIFF '{name}': {Libc.Describe(errno)}",
                }, errno);
            }
            if (Libc.Ioctl(fd, TUNGETIFF, ifr) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new TapException($"TUNGETIFF '{name}': {Libc.Describe(errno)}", errno);
            }
            short flags = ReadFlags(new Span<byte>(ifr, IfReqSize));
            // The device we checked for could have been deleted in between, and TUNSETIFF would then have created a
            // fresh, unconfigured one: an attached persistent device reports IFF_PERSIST (0x1802 seen), a new one not.
            if (existed && (flags & IFF_PERSIST) == 0)
                throw new TapException($"TAP '{name}' {where} is not persistent: TUNSETIFF created a new device instead of attaching " +
                                       "to a configured one (was it deleted, or is this the wrong namespace?)");
            // The offloads a virtio NIC offers; not UFO/USO (UDP segmentation): a UDP datagram stays one frame.
            if (offload && Libc.Ioctl(fd, TUNSETOFFLOAD, (void*)(nuint)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new TapException($"TUNSETOFFLOAD '{name}': {Libc.Describe(errno)} (run without offloads: --offload off)", errno);
            }
            if (!existed) BringUp(name);
            return new TapDevice(fd, name, created: !existed, netns, Libc.IfNameToIndex(name), offload);
        }
        catch
        {
            Libc.Close(fd);
            throw;
        }
    }

    /// <summary>A device we created starts down, and frames sent to a down interface are dropped by the kernel.</summary>
    static void BringUp(string name)
    {
        int s = Libc.Socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        if (s < 0) throw new TapException($"bring up '{name}': socket: {Libc.Describe(Marshal.GetLastPInvokeError())}");
        try
        {
            byte* ifr = stackalloc byte[IfReqSize];
            var span = new Span<byte>(ifr, IfReqSize);
            FillIfReq(span, name, 0);
            if (Libc.Ioctl(s, SIOCGIFFLAGS, ifr) < 0)
                throw new TapException($"bring up '{name}': SIOCGIFFLAGS: {Libc.Describe(Marshal.GetLastPInvokeError())}");
            WriteFlags(span, (short)(ReadFlags(span) | IFF_UP));
            if (Libc.Ioctl(s, SIOCSIFFLAGS, ifr) < 0)
                throw new TapException($"bring up '{name}': SIOCSIFFLAGS: {Libc.Describe(Marshal.GetLastPInvokeError())}");
        }
        finally
        {
            Libc.Close(s);
        }
    }

    static readonly SearchValues<char> s_badNameChars = SearchValues.Create("/%: \t\n");

    static void ValidateName(string name)
    {
        // IFNAMSIZ is 16 with the NUL; '/' and whitespace are refused by the kernel's dev_valid_name, '%' would make
        // TUNSETIFF pick a name itself (tap%d) and ':' is an alias.
        if (name.Length is 0 or >= IfNameSize || Encoding.UTF8.GetByteCount(name) >= IfNameSize || name is "." or ".." ||
            name.AsSpan().IndexOfAny(s_badNameChars) >= 0)
            throw new TapException($"'{name}' is not a valid interface name (1-15 characters, no '/', '%', ':' or spaces)", Libc.EINVAL);
    }

    static void FillIfReq(Span<byte> ifr, string name, short flags)
    {
        ifr.Clear();
        Encoding.UTF8.GetBytes(name, ifr[..(IfNameSize - 1)]);
        WriteFlags(ifr, flags);
    }

    // ifr_flags is a native-endian short.
    static short ReadFlags(Span<byte> ifr) => MemoryMarshal.Read<short>(ifr[IfReqFlagsOffset..]);

    static void WriteFlags(Span<byte> ifr, short flags) => MemoryMarshal.Write(ifr[IfReqFlagsOffset..], in flags);

    /// <summary>
    /// Reads one frame into <paramref name="buffer"/>: its length (&gt; 0); 0 when no frame is waiting (EAGAIN) or a
    /// signal interrupted the call; -errno on a fault. A frame longer than the buffer is truncated by the kernel.
    /// </summary>
    public int Read(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            nint n = Libc.Read(_fd, p, buffer.Length);
            if (n >= 0) return (int)n;
        }
        int errno = Marshal.GetLastPInvokeError();
        return errno is Libc.EAGAIN or Libc.EINTR ? 0 : -errno;
    }

    /// <summary>Writes one frame (the kernel receives it on the interface): its length, or -errno on a fault.</summary>
    public int Write(ReadOnlySpan<byte> frame)
    {
        fixed (byte* p = frame)
        {
            nint n = Libc.Write(_fd, p, frame.Length);
            if (n >= 0) return (int)n;
        }
        return -Marshal.GetLastPInvokeError();
    }

    /// <summary>
    /// Writes one frame behind its vnet header (<see cref="Offload"/> devices), in one writev(2): the frame's length,
    /// or -errno on a fault.
    /// </summary>
    public int Write(ReadOnlySpan<byte> header, ReadOnlySpan<byte> frame)
    {
        fixed (byte* h = header)
        fixed (byte* f = frame)
        {
            Libc.IoVec* iov = stackalloc Libc.IoVec[2];
            iov[0] = new Libc.IoVec { Base = h, Length = (nuint)header.Length };
            iov[1] = new Libc.IoVec { Base = f, Length = (nuint)frame.Length };
            nint n = Libc.WriteV(_fd, iov, 2);
            if (n >= 0) return (int)n - header.Length;
        }
        return -Marshal.GetLastPInvokeError();
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> for a frame to read.</summary>
    public TapPoll Poll(int timeoutMs)
    {
        var pfd = new Libc.PollFd { Fd = _fd, Events = Libc.POLLIN };
        int r = Libc.Poll(&pfd, 1, timeoutMs);
        if (r < 0) return Marshal.GetLastPInvokeError() == Libc.EINTR ? TapPoll.Timeout : TapPoll.Gone;
        if (r == 0) return TapPoll.Timeout;
        if ((pfd.Revents & (Libc.POLLERR | Libc.POLLHUP | Libc.POLLNVAL)) != 0) return TapPoll.Gone;
        return TapPoll.Readable;
    }

    public void Dispose()
    {
        Close();
        GC.SuppressFinalize(this);
    }

    ~TapDevice() => Close();

    void Close()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) Libc.Close(fd);
    }
}
