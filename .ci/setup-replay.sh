#!/usr/bin/env bash
# What pcaps/replay-all.sh needs: the .NET 10 SDK, nothing else (the replay reads and writes captures itself, in managed
# code). Checks and says what is missing; installs nothing.
set -euo pipefail
command -v dotnet >/dev/null || { echo "setup: the .NET 10 SDK (dotnet) is required: https://dot.net/download" >&2; exit 1; }
dotnet --list-sdks | grep -q '^10\.' || { echo "setup: dotnet has no .NET 10 SDK (dotnet --list-sdks: $(dotnet --list-sdks | cut -d' ' -f1 | tr '\n' ' '))" >&2; exit 1; }
