#!/usr/bin/env bash
# What tests/run-all.sh needs: what replaying needs (.ci/setup-replay.sh), plus these Debian packages, each installed
# only when missing (.ci/apt-install.sh, which waits for a busy package manager):
#   libpcap0.8  SharpPcap's native library, used by the tests that cross-check our managed pcap reader against libpcap
#   afl++       the fuzzer tests/fuzz.sh drives (SharpFuzz-instrumented harnesses in tests/DataPlane.Fuzz)
#   tmux        the terminal the progress test runs replay in, as a person would see it
#   iptables nftables tcpdump ethtool xxd iproute2
#               tests/kernel-captures/make.sh, which the root kernel-capture test runs: a namespace with kube-proxy's
#               iptables or nftables rules, captured with tcpdump -i any (ethtool turns the veths' checksum offload off, xxd
#               turns the chain-name hashes into base32); iptables and nftables are also the live lab's kernel references
#               (lab up --datapath iptables|nftables)
#   curl dnsutils iperf3
#               the live lab (tests/DataPlane.Tests/Lab): curl and dig/nslookup are the real clients lab check and the
#               seeds' commands run; iperf3 measures the lab's throughput (ip, from iproute2, builds its namespaces)
#   chromium    the browser the report test opens replay --report's page in (headless, network off), as a person would
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/setup-replay.sh"
bash "$here/apt-install.sh" libpcap0.8 afl++ tmux iptables nftables tcpdump ethtool xxd iproute2 curl dnsutils iperf3 chromium
