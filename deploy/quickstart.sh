#!/usr/bin/env bash
# Installs, builds and starts eas-fcgi on localhost. Extended by each capability.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
"$top/deploy/install-deps.sh"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
echo "quickstart: built; the runtime (eas-fcgi behind nginx) is not there yet"
