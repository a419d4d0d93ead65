#!/usr/bin/env bash
# A smaller demo without downloads: installs what graft needs, builds it, starts a real
# multi-threaded service, and fixes its compute() function while it runs:
# build a bundle from the fix, apply it, show the new behaviour, list it,
# revert it, show the old behaviour again. The process never restarts.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/demo-setup.sh

W=$(mktemp -d /tmp/graft-demo.XXXXXX)
trap 'kill "$SVC" 2>/dev/null; rm -rf "$W"' EXIT
say "building the service (plain gcc -O2, no special flags) and the objects of its fix"
gcc -O2 -g -o "$W/svc" tests/programs/svc.c -pthread
gcc -O2 -g -ffunction-sections -fdata-sections -c tests/programs/svc.c -o "$W/svc.orig.o"
gcc -O2 -g -ffunction-sections -fdata-sections -DFIXED -c tests/programs/svc.c -o "$W/svc.fixed.o"

"$W/svc" spin 2 >"$W/out" 2>&1 &
SVC=$!
sleep 0.5
say "service running as pid $SVC; it prints compute(21):"
tail -2 "$W/out"

say "graft build: diff the objects, verify them against the running binary (run-pre)"
"$GRAFT" build --orig "$W/svc.orig.o" --patched "$W/svc.fixed.o" --target "$W/svc" \
  -o "$W/fix-compute.graft" --cve CVE-2099-0001 --description "compute(): reject negative input"
"$GRAFT" info "$W/fix-compute.graft"

say "graft sign the bundle; the host trusts the key"
"$GRAFT" keygen demo --dir "$W/keys" >/dev/null
"$GRAFT" sign "$W/fix-compute.graft" --key "$W/keys/demo.key"
export GRAFT_KEYS_DIR=$W/keys

say "graft apply --pid $SVC"
"$GRAFT" apply "$W/fix-compute.graft" --pid "$SVC"
sleep 0.3
echo "the same process now prints:"
tail -2 "$W/out"
grep -q '^value 63$' <(tail -2 "$W/out") || { echo "demo: the fix did not take effect" >&2; exit 1; }

say "graft list (read from the process itself)"
"$GRAFT" list

say "graft revert fix-compute --pid $SVC"
"$GRAFT" revert fix-compute --pid "$SVC"
sleep 0.3
tail -2 "$W/out"
grep -q '^value 42$' <(tail -1 "$W/out") || { echo "demo: revert did not take effect" >&2; exit 1; }
kill -0 "$SVC" && echo "pid $SVC kept running throughout."
say "demo finished"
