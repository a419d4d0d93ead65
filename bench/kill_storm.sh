#!/usr/bin/env bash
# The long proof behind tests/e2e/kill_safety.sh: SIGKILL `graft` at random
# moments during 1,000 applies and reverts of a busy multi-threaded server
# under load; after every kill the server must run, no thread may be left
# stopped, the patch must be fully applied or absent, and no request may fail.
# Usage: bench/kill_storm.sh [KILLS] (default 1000); needs a built tree (build/).
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=${1:-1000}
start=$(date +%s)
KILLS=$KILLS GRAFT=${GRAFT:-$PWD/build/graft} bash tests/e2e/kill_safety.sh | tail -2
echo "kill storm: $KILLS kills in $(( $(date +%s) - start )) s"
