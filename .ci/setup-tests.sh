#!/usr/bin/env bash
# What tests/run-all.sh needs: what replaying needs (.ci/setup-replay.sh), plus these Debian packages, each installed
# only when missing (.ci/apt-install.sh, which waits for a busy package manager):
#   libpcap0.8  SharpPcap's native library, used by the tests that cross-check our managed pcap reader against libpcap
#   afl++       the fuzzer tests/fuzz.sh drives (SharpFuzz-instrumented harnesses in tests/DataPlane.Fuzz)
#   tmux        the terminal the progress test runs replay in, as a person would see it
#   iproute2 curl dnsutils iperf3 iptables nftables
#               the live lab (tests/DataPlane.Tests/Lab): ip builds its namespaces, veths and TAP; curl and dig/nslookup
#               are the real clients lab check and the seeds' commands run; iperf3 measures the lab's throughput;
#               iptables and nftables are the kernel references (lab up --datapath iptables|nftables)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/setup-replay.sh"
bash "$here/apt-install.sh" libpcap0.8 afl++ tmux iproute2 curl dnsutils iperf3 iptables nftables
