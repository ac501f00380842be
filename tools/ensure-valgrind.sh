#!/usr/bin/env bash
# Install valgrind when it is missing: @pkeysim/trace's replay test records a real program's memory
# accesses with `valgrind --tool=lackey --trace-mem=yes`. Debian/Ubuntu (apt-get); run as root or
# with sudo available. Does nothing when valgrind is already installed.
set -euo pipefail

if command -v valgrind >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-valgrind: valgrind is missing and apt-get is not available; install valgrind with this system's package manager" >&2
  exit 1
fi
run_as_root=()
if [ "$(id -u)" -ne 0 ]; then run_as_root=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${run_as_root[@]}" apt-get update
"${run_as_root[@]}" apt-get install -y --no-install-recommends valgrind
valgrind --version
