#!/usr/bin/env python3
"""Writes a classic pcap of N UDP datagrams to kube-system/dns (10.96.0.53:53 in pcaps/cluster), each from a new
client address and port, 1 ms apart: every frame is a new flow. For measuring that replay memory is bounded by the
tables (--ct-max), not by the number of flows.   usage: gen-new-flows.py N OUT (OUT may be a FIFO)"""
import struct, sys

def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    eth = bytes.fromhex("02000000000102000000000208 00".replace(" ", ""))
    payload = b"\x00" * 12
    udp_len = 8 + len(payload)
    total = 20 + udp_len
    dst = 0x0A600035  # 10.96.0.53
    with open(out, "wb", buffering=1 << 20) as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        rec = struct.pack("<II", 14 + total, 14 + total)
        chunk = []
        for i in range(n):
            src = 0xCB000000 | (i >> 14)  # 203.0.x.y, 16384 source ports each
            sport = 1024 + (i & 0x3FFF)
            hdr = struct.pack("!BBHHHBBHII", 0x45, 0, total, 0, 0x4000, 64, 17, 0, src, dst)
            s = sum(struct.unpack("!10H", hdr))
            s = (s & 0xFFFF) + (s >> 16); s = (s & 0xFFFF) + (s >> 16)
            hdr = hdr[:10] + struct.pack("!H", ~s & 0xFFFF) + hdr[12:]
            t = 1_700_000_000_000 + i  # ms
            chunk.append(struct.pack("<II", t // 1000, (t % 1000) * 1000) + rec + eth + hdr +
                         struct.pack("!HHHH", sport, 53, udp_len, 0) + payload)
            if len(chunk) == 65536:
                f.write(b"".join(chunk)); chunk.clear()
        f.write(b"".join(chunk))

main()
