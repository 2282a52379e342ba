#!/usr/bin/python3
"""Real traffic for the live-mode end-to-end test, run inside the test's network namespace (stdlib only).

Serves a UDP and a TCP echo on the backend address (the kernel is the backend), sends one datagram and opens one TCP
connection to the ClusterIP through the routes that lead into the TAP, and captures the TAP's kernel side with an
AF_PACKET socket meanwhile. Prints one JSON object: what each client got back, and every captured IPv4 frame with its
direction ("out" = the kernel sent it into the TAP, "in" = the data plane wrote it back).

usage: live-traffic.py TAP VIP PORT BACKEND BACKEND_PORT
"""
import json, select, socket, sys, threading, time

tap, vip, port, backend, bport = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
ETH_P_ALL, PACKET_OUTGOING = 0x0003, 4

cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
cap.bind((tap, 0))
cap.setblocking(False)

udp_srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp_srv.bind((backend, bport))
tcp_srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp_srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp_srv.bind((backend, bport))
tcp_srv.listen(4)
seen_by_backend = {}

def udp_echo():
    while True:
        data, peer = udp_srv.recvfrom(2048)
        seen_by_backend["udp"] = "%s:%d" % peer
        udp_srv.sendto(b"echo:" + data, peer)

def tcp_echo():
    while True:
        conn, peer = tcp_srv.accept()
        seen_by_backend["tcp"] = "%s:%d" % peer
        with conn:
            data = conn.recv(2048)
            conn.sendall(b"echo:" + data)

for f in (udp_echo, tcp_echo):
    threading.Thread(target=f, daemon=True).start()

result = {"udp": None, "udp_from": None, "tcp": None, "errors": []}

# UDP: the data plane may still be attaching when the first datagram leaves (frames sent to a TAP nobody holds are
# dropped), so retry a few times.
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(1.0)
u.connect((vip, port))
result["udp_client"] = "%s:%d" % u.getsockname()
for attempt in range(5):
    try:
        u.send(b"hello-udp")
        data, peer = u.recvfrom(2048)
        result["udp"], result["udp_from"] = data.decode(), "%s:%d" % peer
        break
    except socket.timeout:
        result["errors"].append("udp attempt %d timed out" % attempt)

try:
    t = socket.create_connection((vip, port), timeout=3.0)
    result["tcp_client"] = "%s:%d" % t.getsockname()
    t.sendall(b"hello-tcp")
    result["tcp"] = t.recv(2048).decode()
    t.close()
except OSError as e:
    result["errors"].append("tcp: %r" % e)

result["backend_saw"] = seen_by_backend
frames = []
deadline = time.time() + 0.5
while time.time() < deadline:
    r, _, _ = select.select([cap], [], [], 0.1)
    if not r:
        continue
    while True:
        try:
            data, addr = cap.recvfrom(65535)
        except BlockingIOError:
            break
        if len(data) >= 34 and data[12:14] == b"\x08\x00":
            frames.append({"dir": "out" if addr[2] == PACKET_OUTGOING else "in", "hex": data.hex()})
result["frames"] = frames
print(json.dumps(result))
