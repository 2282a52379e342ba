#!/usr/bin/python3
"""A lab pod's server (stdlib only), like agnhost netexec: on each TCP port an HTTP server, on each UDP port an echo,
both answering with what they saw. Started by `dataplane lab up` inside the pod's network namespace.

  GET /clientip  -> "IP:PORT" of the peer, as agnhost netexec answers
  GET /hostname  -> the pod's name
  GET /anything  -> "POD IP:PORT"  (which backend answered, and the source address it saw)
  UDP datagram "hostname" -> the pod's name; "clientip" -> "IP:PORT"; anything else -> "POD IP:PORT"

usage: lab-server.py POD tcp:PORT|udp:PORT ...   Prints "ready" once every socket is bound.
       lab-server.py --probe-udp ADDRESS PORT       A UDP client for `lab check`: prints the answer (exit 0), or exits
                                                    7 when refused (ICMP port unreachable), 28 after 2 s without one
                                                    (curl's exit codes for the same outcomes).
       lab-server.py --connections ADDRESS PORT SECONDS  lab bench's TCP connection rate: "DONE FAILED SECONDS".
"""
import http.server, socket, sys, threading

if sys.argv[1] == "--probe-udp":
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(2.0)
    c.connect((sys.argv[2], int(sys.argv[3])))
    try:
        c.send(b"whoami")
        print(c.recv(65535).decode().strip())
        sys.exit(0)
    except ConnectionRefusedError:
        sys.exit(7)
    except socket.timeout:
        sys.exit(28)

if sys.argv[1] == "--connections":
    # lab bench: new TCP connections, one after the other, each an HTTP/1.0 request answered and closed, for N seconds.
    import time
    addr, port, seconds = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    done = failed = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with socket.create_connection((addr, port), timeout=2.0) as c:
                c.sendall(b"GET /clientip HTTP/1.0\r\n\r\n")
                while c.recv(4096):
                    pass
            done += 1
        except OSError:
            failed += 1
    print("%d %d %.3f" % (done, failed, seconds), flush=True)
    sys.exit(0)

pod = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        peer = "%s:%d" % self.client_address[:2]
        path = self.path.split("?")[0]
        body = peer if path == "/clientip" else pod if path == "/hostname" else "%s %s" % (pod, peer)
        data = (body + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True


def udp_loop(s):
    while True:
        data, peer = s.recvfrom(65535)
        who = "%s:%d" % peer
        cmd = data.strip()
        reply = pod if cmd == b"hostname" else who if cmd == b"clientip" else "%s %s" % (pod, who)
        s.sendto((reply + "\n").encode(), peer)


threads = []
for spec in sys.argv[2:]:
    proto, port = spec.split(":")
    if proto == "tcp":
        srv = Server(("0.0.0.0", int(port)), Handler)
        threads.append(threading.Thread(target=srv.serve_forever, daemon=True))
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", int(port)))
        threads.append(threading.Thread(target=udp_loop, args=(s,), daemon=True))
for t in threads:
    t.start()
print("ready", flush=True)
threading.Event().wait()
