# Real CVE fixes on a real program: Debian 12's lua5.4 (5.4.4-3+deb12u1) built
# without its two CVE patches runs a long-lived interpreter; graft build
# --source makes live patches from debian/patches/0004-cve-2022-28805.patch and
# 0005-cve-2022-33099.patch, applies them, shows the CVE-2022-28805 reproducer
# now behaves as the fixed Lua does, reverts, and shows the bug again. The
# interpreter never restarts. Needs deb-src (added here) and network once;
# the source is cached in $GRAFT_CACHE.
. "$(dirname "$0")/lib.sh"
CACHE=${GRAFT_CACHE:-/var/cache/graft-tests}
bash "$(dirname "$PROGRAMS")/../scripts/fetch-debian-source.sh" lua5.4 5.4.4-3+deb12u1 "$CACHE/lua"
cd "$W"
dpkg-source -x --skip-patches "$CACHE/lua/lua5.4_5.4.4-3+deb12u1.dsc" lua >/dev/null
P=$W/lua/debian/patches
step "building Lua without the CVE fixes (upstream make linux)"
make -C lua linux -j2 >build.log 2>&1 || fail "lua build failed: $(tail -5 build.log)"
LUA=$W/lua/src/lua
step "graft build --source: CVE-2022-28805 (lparser.c)"
"$GRAFT" build --source lua --diff "$P/0004-cve-2022-28805.patch" --build 'make linux' --target "$LUA" \
  -o cve-2022-28805.graft --cve CVE-2022-28805 --description "wrong code when _ENV is <const>"
step "graft build --source: CVE-2022-33099 (ldebug.c, lvm.c)"
"$GRAFT" build --source lua --diff "$P/0005-cve-2022-33099.patch" --build 'make linux' --target "$LUA" \
  -o cve-2022-33099.graft --cve CVE-2022-33099 --description "stack overflow while handling errors"

mkfifo in
"$LUA" "$(dirname "$PROGRAMS")/lua/fifo_loop.lua" "$W/in" >out 2>&1 &
PID=$!; PIDS+=("$PID")
wait_for out '^ready'
REPRO='local _ENV <const> = "abc"; return len'
step "the bug: CVE-2022-28805 reproducer on the running interpreter (pid $PID)"
mark out; echo "$REPRO" >in; expect out 'compile-error.*needs too many registers'
step "apply both patches"
"$GRAFT" apply cve-2022-28805.graft --pid "$PID"
"$GRAFT" apply cve-2022-33099.graft --pid "$PID"
"$GRAFT" list --pid "$PID"
mark out; echo "$REPRO" >in; expect out '^result	true	function'
mark out; echo 'local t = {} for i = 1, 100 do t[i] = "x" .. i end return table.concat(t)' >in
expect out '^result	true	string'
mark out; echo 'error("boom " .. 42)' >in; expect out 'result	false	string	.*boom 42'
step "revert both"
"$GRAFT" revert cve-2022-33099 --pid "$PID"
"$GRAFT" revert cve-2022-28805 --pid "$PID"
mark out; echo "$REPRO" >in; expect out 'compile-error.*needs too many registers'
alive "$PID"; not_stopped "$PID"
echo "PASS (pid $PID never restarted)"
