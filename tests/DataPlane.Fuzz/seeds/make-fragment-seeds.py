# Builds the pipeline harness's fragment seeds (FrameRecords: [len u16][clock step u8][frame]) from scratch, against
# pcaps/cluster with the DNS answered at 10.96.0.53: a DNS query in three fragments in order, last first and first last,
# a NodePort datagram last first, and duplicate + overlapping fragments. Run: python3 make-fragment-seeds.py pipeline
import struct, sys, os
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b)//2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def ip(a): return bytes(int(x) for x in a.split('.'))
MAC = bytes.fromhex('020000000002') + bytes.fromhex('020000000001') + b'\x08\x00'
def udp_datagram(src, sport, dst, dport, payload, ident):
    ulen = 8 + len(payload)
    pseudo = ip(src) + ip(dst) + struct.pack('!BBH', 0, 17, ulen)
    u = struct.pack('!HHHH', sport, dport, ulen, 0) + payload
    c = csum(pseudo + u) or 0xffff
    u = u[:6] + struct.pack('!H', c) + u[8:]
    return ident, src, dst, u
def frag(d, off, length, more):
    ident, src, dst, u = d
    body = u[off:off+length]
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(body), ident, (0x2000 if more else 0) | (off // 8), 64, 17, 0, ip(src), ip(dst))
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return MAC + h + body
def pieces(d, chunk):
    u = d[3]; out = []
    for off in range(0, len(u), chunk):
        out.append(frag(d, off, min(chunk, len(u) - off), off + chunk < len(u)))
    return out
def record(f, step=0): return struct.pack('!HB', len(f), step) + f
def dns_query(name, qid):
    q = struct.pack('!HHHHHH', qid, 0x0100, 1, 0, 0, 1)
    for label in name.split('.'): q += bytes([len(label)]) + label.encode()
    q += b'\0' + struct.pack('!HH', 1, 1)
    q += b'\0' + struct.pack('!HHIH', 41, 1232, 0, 0)  # EDNS0 OPT
    return q
out = sys.argv[1]
dns = udp_datagram('10.244.1.5', 50100, '10.96.0.53', 53, dns_query('echo.default.svc.cluster.local', 0x5151), 0x5151)
dp = pieces(dns, 24)
big = udp_datagram('203.0.113.2', 50600, '192.168.0.2', 30007, bytes((i * 7) & 0xff for i in range(3000)), 0x1111)
bp = pieces(big, 1480)
seeds = {
    'frag-dns-in-order': dp,
    'frag-dns-last-first': dp[::-1],
    'frag-dns-first-last': dp[1:] + dp[:1],
    'frag-nodeport-last-first': bp[::-1],
    'frag-nodeport-duplicate-overlap': [bp[1], bp[1], frag(big, 1400, 160, True), bp[0], bp[2]],
}
for name, frames in seeds.items():
    with open(os.path.join(out, name), 'wb') as fh:
        for f in frames: fh.write(record(f, 1))
print(len(seeds), 'seeds')
