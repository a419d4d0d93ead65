#!/usr/bin/env bash
# The graft demo, on a fresh Debian 12 machine (as root): installs what graft
# needs, builds it, builds Lua 5.4.4 from Debian's source package WITHOUT its
# two CVE fixes, starts a long-running Lua interpreter, shows CVE-2022-28805,
# builds live patches from Debian's own fix files with `graft build --source`,
# applies them to the running interpreter, shows the fixed behaviour, reverts,
# and shows the bug again. The interpreter never restarts.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
die() { printf '\ndemo failed: %s\n' "$*" >&2; exit 1; }
. scripts/demo-setup.sh

CACHE=$ROOT/build/demo-cache
say "fetching Debian's lua5.4 5.4.4-3+deb12u1 source package (cached in $CACHE)"
bash scripts/fetch-debian-source.sh lua5.4 5.4.4-3+deb12u1 "$CACHE"
W=$(mktemp -d /tmp/graft-demo.XXXXXX)
trap 'kill "$LUAPID" 2>/dev/null; rm -rf "$W"' EXIT
cd "$W"
dpkg-source -x --skip-patches "$CACHE/lua5.4_5.4.4-3+deb12u1.dsc" lua >/dev/null 2>&1
P=$W/lua/debian/patches
say "building Lua without debian/patches/0004 and 0005 (the CVE fixes)"
make -C lua linux -j"$(nproc)" >lua-build.log 2>&1 || die "lua build failed (see $W/lua-build.log)"
LUA=$W/lua/src/lua

mkfifo in
"$LUA" "$ROOT/tests/lua/fifo_loop.lua" "$W/in" >out 2>&1 &
LUAPID=$!
sleep 0.5
REPRO='local _ENV <const> = "abc"; return len'
# CVE-2022-33099's reproducer and answers, from its corpus manifest.
manifest() { (. "$ROOT/tests/cves/lua5.4-cve-2022-33099/case.sh"; eval echo "\"\$$1\""); }
REPRO2=$(manifest PROBE) BUGGY2=$(manifest BUGGY) FIXED2=$(manifest FIXED)
ask() {  # ask CODE: send a chunk to the interpreter, print its answer
  local n; n=$(wc -l <out)
  echo "$1" >in
  for _ in $(seq 100); do [ "$(wc -l <out)" -gt "$n" ] && break; sleep 0.05; done
  echo "   lua> $1"
  echo "   $(tail -n +"$((n + 1))" out | head -1)"
}
say "interpreter running as pid $LUAPID; the CVE-2022-28805 reproducer:"
ask "$REPRO"
tail -1 out | grep -q "compile-error" || die "the unpatched Lua did not show the bug"
say "the CVE-2022-33099 reproducer: a message handler counts the slots of the frame that raised the error"
echo "   (the buggy Lua leaves the raw message on the stack: 4 slots, the last one the message)"
ask "$REPRO2"
tail -1 out | grep -Eq "$BUGGY2" || die "the unpatched Lua did not show CVE-2022-33099's leftover slot"

say "graft build --source lua --diff 0004-cve-2022-28805.patch"
"$GRAFT" build --source lua --diff "$P/0004-cve-2022-28805.patch" --build 'make linux' --target "$LUA" \
  -o cve-2022-28805.graft --cve CVE-2022-28805 --description "Lua can generate wrong code when _ENV is <const>"
say "graft build --source lua --diff 0005-cve-2022-33099.patch"
"$GRAFT" build --source lua --diff "$P/0005-cve-2022-33099.patch" --build 'make linux' --target "$LUA" \
  -o cve-2022-33099.graft --cve CVE-2022-33099 --description "stack overflow while handling errors"

say "graft sign: a publisher's key signs the bundles; this host trusts its public key"
"$GRAFT" keygen demo-publisher --dir keys >/dev/null
"$GRAFT" sign cve-2022-28805.graft cve-2022-33099.graft --key keys/demo-publisher.key
export GRAFT_KEYS_DIR=$W/trusted
mkdir -p "$GRAFT_KEYS_DIR" && cp keys/demo-publisher.pub "$GRAFT_KEYS_DIR/"
"$GRAFT" verify cve-2022-28805.graft cve-2022-33099.graft

say "graft apply to pid $LUAPID"
"$GRAFT" apply cve-2022-28805.graft --pid "$LUAPID"
"$GRAFT" apply cve-2022-33099.graft --pid "$LUAPID"
"$GRAFT" list
say "the same interpreter, the same reproducer:"
ask "$REPRO"
tail -1 out | grep -q "result	true	function" || die "the patched Lua still shows the bug"
ask "$REPRO2"
tail -1 out | grep -Eq "$FIXED2" || die "the patched Lua still leaves the message on the stack"
ask 'error("still reports errors: " .. 42)'

say "graft revert both"
"$GRAFT" revert cve-2022-33099 --pid "$LUAPID"
"$GRAFT" revert cve-2022-28805 --pid "$LUAPID"
ask "$REPRO"
tail -1 out | grep -q "compile-error" || die "the bug did not come back after revert"
ask "$REPRO2"
tail -1 out | grep -Eq "$BUGGY2" || die "CVE-2022-33099's leftover slot did not come back after revert"
kill -0 "$LUAPID" && echo "   pid $LUAPID ran throughout: nothing restarted."
say "demo finished"
