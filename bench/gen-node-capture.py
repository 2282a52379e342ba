#!/usr/bin/env python3
"""Writes what `tcpdump -i any` on node-1 of pcaps/cluster records (LINUX_SLL2) for N TCP exchanges from external
clients to default/web's NodePort (192.168.0.2:30080): each client's SYN, PSH and FIN arriving (packet type HOST),
the node's copy leaving masqueraded to 192.168.0.2 towards 10.244.2.7:8080 (OUTGOING, TTL - 1), the backend's
answers arriving and their reverse-translated copies leaving: 12 frames per connection, 1 us apart, connections 0.2 ms apart (each with
its own masquerade port, as the kernel gives them). For timing
`verify` against `replay` on the same frames.   usage: gen-node-capture.py N OUT"""
import struct, sys


def csum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(a):
    return struct.unpack("!I", bytes(int(x) for x in a.split(".")))[0]


def tcp_packet(src, sport, dst, dport, seq, ack, flags, ident, ttl, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0) + payload
    pseudo = struct.pack("!IIBBH", src, dst, 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    total = 20 + len(tcp)
    hdr = struct.pack("!BBHHHBBHII", 0x45, 0, total, ident, 0x4000, ttl, 6, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + tcp


def sll2(packet_type, ifindex, ip):
    return struct.pack("!HHIHBB", 0x0800, 0, ifindex, 1, packet_type, 6) + bytes.fromhex("020000000002") + b"\x00\x00" + ip


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    node, nodeport, backend, bport = ip4("192.168.0.2"), 30080, ip4("10.244.2.7"), 8080
    host, outgoing = 0, 4
    with open(out, "wb", buffering=1 << 20) as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 276))
        t = 1_700_000_000_000_000  # us
        chunk = []
        for i in range(n):
            client = 0xCB000000 | (i >> 14)  # 203.0.x.y
            cport = 1024 + (i & 0x3FFF)
            ident = (i * 8) & 0xFFFF
            # Random-looking initial sequence numbers (RFC 6528) and a masquerade port of its own per connection, as a
            # kernel gives them: no two connections' packets look alike, whatever the IP ID's wrap.
            c0, b0 = (i * 2654435761) & 0xFFFFFFFF, (i * 40503 * 65537 + 12345) & 0xFFFFFFFF
            sport = 1024 + i % 64512
            legs = [
                (client, cport, c0, 0, 0x02, b""), (None, None, b0, c0 + 1, 0x12, b""),
                (client, cport, c0 + 1, b0 + 1, 0x18, b"GET / HTTP/1.0\r\n\r\n"), (None, None, b0 + 1, c0 + 19, 0x18, b"HTTP/1.0 200 OK\r\n\r\n"),
                (client, cport, c0 + 19, b0 + 20, 0x11, b""), (None, None, b0 + 20, c0 + 20, 0x11, b""),
            ]
            for k, (c, p, seq, ack, flags, payload) in enumerate(legs):
                ident_k = (ident + k) & 0xFFFF
                seq, ack = seq & 0xFFFFFFFF, ack & 0xFFFFFFFF
                if c is not None:  # client -> node, then the node's masqueraded copy to the backend
                    frames = [(host, 2, tcp_packet(client, cport, node, nodeport, seq, ack, flags, ident_k, 64, payload)),
                              (outgoing, 3, tcp_packet(node, sport, backend, bport, seq, ack, flags, ident_k, 63, payload))]
                else:  # backend -> node, then the reverse-translated copy to the client
                    frames = [(host, 3, tcp_packet(backend, bport, node, sport, seq, ack, flags, ident_k, 64, payload)),
                              (outgoing, 2, tcp_packet(node, nodeport, client, cport, seq, ack, flags, ident_k, 63, payload))]
                for ptype, ifi, ip in frames:
                    rec = sll2(ptype, ifi, ip)
                    chunk.append(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(rec), len(rec)) + rec)
                    t += 1
            t += 200  # connections 0.2 ms apart: a masquerade port comes round again after 13 s, past conntrack's close timeout
            if len(chunk) >= 65536:
                f.write(b"".join(chunk))
                chunk.clear()
        f.write(b"".join(chunk))


if __name__ == "__main__":
    main()
