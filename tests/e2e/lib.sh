# Shared helpers for the end-to-end scenarios: build a tiny program and its
# fixed objects, run it, wait for its output, and clean up whatever started.
set -euo pipefail
GRAFT=${GRAFT:?set GRAFT to the graft binary}
# The scenarios build their own unsigned bundles; signatures.sh tests signing.
export GRAFT_ALLOW_UNSIGNED=${GRAFT_ALLOW_UNSIGNED:-1}
PROGRAMS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../programs" && pwd)
W=$(mktemp -d /tmp/graft-e2e.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP_W:-}" ] || rm -rf "$W"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

# build NAME SOURCE [extra gcc flags...]: the running target $W/NAME (no
# special flags) and the objects graft diffs: $W/NAME.orig.o, $W/NAME.fixed.o
build() {
  local name=$1 src=$PROGRAMS/$2; shift 2
  gcc -O2 -g "$@" -o "$W/$name" "$src" -pthread
  local cflags=()
  for f in "$@"; do [ "$f" = -no-pie ] || cflags+=("$f"); done
  gcc -O2 -g "${cflags[@]}" -ffunction-sections -fdata-sections -c "$src" -o "$W/$name.orig.o"
  gcc -O2 -g "${cflags[@]}" -ffunction-sections -fdata-sections -DFIXED -c "$src" -o "$W/$name.fixed.o"
}

# start NAME OUTFILE args...: runs $W/NAME in the background; sets PID.
start() {
  local name=$1 out=$2; shift 2
  "$W/$name" "$@" >"$out" 2>&1 &
  PID=$!
  PIDS+=("$PID")
  wait_for "$out" '^ready|^lib ' 5
}

# wait_for FILE REGEX [SECONDS]: until a line of FILE matches.
wait_for() {
  local file=$1 re=$2 secs=${3:-5}
  local end=$((SECONDS + secs))
  until grep -qE "$re" "$file" 2>/dev/null; do
    [ $SECONDS -lt $end ] || fail "timed out waiting for /$re/ in $file: $(tail -3 "$file" 2>/dev/null)"
    sleep 0.02
  done
}

# mark FILE: remember how long FILE is now; expect FILE REGEX then looks only
# at lines written after the mark (mark before the action, expect after it).
MARK=0
mark() { MARK=$(wc -l <"$1"); }
expect() {
  local file=$1 re=$2 secs=${3:-5}
  local end=$((SECONDS + secs))
  until tail -n +"$((MARK + 1))" "$file" | grep -E "$re" >/dev/null; do
    [ $SECONDS -lt $end ] || fail "no new line /$re/ in $file: $(tail -3 "$file")"
    sleep 0.02
  done
}

alive() { kill -0 "$1" 2>/dev/null || fail "process $1 died"; }

# not_stopped PID: no thread of PID is in a stopped or traced state.
not_stopped() {
  local st
  for st in /proc/"$1"/task/*/stat; do
    local state; state=$(awk '{print $3}' "$st" 2>/dev/null || echo R)
    case $state in T|t) fail "thread $(basename "$(dirname "$st")") of $1 is left stopped ($state)";; esac
  done
}
