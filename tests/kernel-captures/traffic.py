#!/usr/bin/python3
"""Traffic for tests/kernel-captures/make.sh: the backends' servers and the clients' connections.

  traffic.py serve TCP_PORT UDP_PORT
      A "clientip" server: every TCP connection and every UDP datagram is answered with the source address and port
      the server saw ("ip:port\n"), so the run shows whether the node masqueraded (eTP Cluster) or kept the client
      address (eTP Local). TCP: read one line, answer, close. Runs until killed.

  traffic.py client PROTO DST_IP DST_PORT FIRST_SRC_PORT COUNT LABEL
      COUNT connections (tcp) or exchanges (udp), each from its own fixed source port FIRST_SRC_PORT + i, so the
      capture's flows are the same on every run; only the kernel's random choices (backend, masquerade port) differ.
      Prints one line each: LABEL proto src -> dst: answer | refused | timeout. Never fails on a refused connection
      (a Service without endpoints is meant to reject).

Standard library only (the system python3), like tests/DataPlane.Tests/Live/live-traffic.py.
"""
import socket
import sys
import threading


def serve(tcp_port, udp_port):
    def tcp_loop():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", tcp_port))
        s.listen(64)
        while True:
            c, peer = s.accept()
            try:
                c.settimeout(5)
                c.recv(256)
                c.sendall(f"{peer[0]}:{peer[1]}\n".encode())
            except OSError:
                pass
            finally:
                c.close()

    def udp_loop():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", udp_port))
        while True:
            _, peer = s.recvfrom(2048)
            s.sendto(f"{peer[0]}:{peer[1]}\n".encode(), peer)

    threading.Thread(target=udp_loop, daemon=True).start()
    tcp_loop()


def client(proto, dst, dport, first_sport, count, label):
    for i in range(count):
        sport = first_sport + i
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        s = socket.socket(socket.AF_INET, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(3)
        outcome = ""
        try:
            s.bind(("0.0.0.0", sport))
            s.connect((dst, dport))
            s.sendall(b"hello\n")
            outcome = s.recv(256).decode().strip() or "closed"
        except ConnectionRefusedError:
            outcome = "refused"
        except socket.timeout:
            outcome = "timeout"
        except OSError as e:
            outcome = f"error {e.errno}"
        finally:
            s.close()
        print(f"{label} {proto} :{sport} -> {dst}:{dport}: {outcome}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) == 8 and sys.argv[1] == "client":
        client(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7])
    else:
        sys.exit(__doc__)
