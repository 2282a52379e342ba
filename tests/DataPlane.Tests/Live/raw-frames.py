# Malformed IPv4 frames sent out of a TAP through an AF_PACKET socket, so `dataplane run` reads them: each gets a drop
# verdict with a named reason (bad header checksum, truncated header, length beyond the frame, truncated TCP, bad IHL).
# Usage: raw-frames.py TAP COUNT [SEED]
import socket, sys, random, struct
tap, count = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((tap, 0))
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
eth = b'\x02\x00\x00\x00\x00\x02' + b'\x02\x00\x00\x00\x00\x01' + b'\x08\x00'
def ip(total, proto, csum_ok, ihl=5, ver=4, frag=0):
    h = struct.pack('!BBHHHBBH4s4s', (ver << 4) | ihl, 0, total, 1, frag, 64, proto, 0, bytes([198,18,0,1]), bytes([10,96,0,10]))
    if csum_ok:
        c = sum(struct.unpack('!10H', h)); c = (c & 0xffff) + (c >> 16); c = (c & 0xffff) + (c >> 16)
        h = h[:10] + struct.pack('!H', (~c) & 0xffff) + h[12:]
    return h
for i in range(count):
    k = rng.randrange(5)
    if k == 0: f = eth + ip(28, 17, False) + b'\x00' * 8                  # bad header checksum
    elif k == 1: f = eth + b'\x45\x00'                                      # truncated IPv4
    elif k == 2: f = eth + ip(200, 17, True) + b'\x00' * 8                  # total length beyond the frame
    elif k == 3: f = eth + ip(22, 6, True) + b'\x00\x50'                    # truncated TCP
    else: f = eth + ip(28, 17, True, ihl=4) + b'\x00' * 8                   # invalid header length
    try: s.send(f)
    except OSError: pass
