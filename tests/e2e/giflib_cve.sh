# A real CVE fix in a shared library, built from a source package: Debian 12's
# giflib 5.2.1-2.5+deb12u1 ships CVE-2026-26740.patch (heap OOB write in
# EGifGCBToSavedExtension). libgif.so is built without it, a long-running
# program uses it, `graft build --source` makes the live patch, `graft apply
# --all` fixes the running process (the check now refuses a short graphics
# control block), revert brings the old behaviour back.
. "$(dirname "$0")/lib.sh"
CACHE=${GRAFT_CACHE:-/var/cache/graft-tests}
VERSION=5.2.1-2.5+deb12u1
bash "$(dirname "$PROGRAMS")/../scripts/fetch-debian-source.sh" giflib "$VERSION" "$CACHE/giflib"
cd "$W"
dpkg-source -x --skip-patches "$CACHE/giflib/giflib_$VERSION.dsc" giflib >/dev/null 2>&1
step "building libgif.so without the fix"
make -C giflib libgif.so -j2 >build.log 2>&1 || fail "giflib build failed: $(tail -5 build.log)"
ln -sf libgif.so giflib/libgif.so.7
gcc -O2 -g -Igiflib -o gif_gcb "$PROGRAMS/gif_gcb.c" -Lgiflib -lgif -Wl,-rpath,"$W/giflib"
step "graft build --source (CVE-2026-26740.patch)"
"$GRAFT" build --source giflib --diff giflib/debian/patches/CVE-2026-26740.patch --build 'make libgif.so' \
  --target giflib/libgif.so -o cve-2026-26740.graft --cve CVE-2026-26740 | tee b.txt
grep -q "replaces  EGifGCBToSavedExtension" b.txt || fail "EGifGCBToSavedExtension not replaced"
mkfifo in
./gif_gcb <in >out 2>&1 &
PID=$!; PIDS+=("$PID")
exec 9>in
wait_for out '^ready'
mark out; echo go >&9; expect out '^gcb 1$'
"$GRAFT" apply cve-2026-26740.graft --all | tee a.txt
grep -q "process $PID: applied" a.txt || fail "not applied to the running user of libgif"
mark out; echo go >&9; expect out '^gcb 0$'
"$GRAFT" revert cve-2026-26740 --pid "$PID"
mark out; echo go >&9; expect out '^gcb 1$'
alive "$PID"; not_stopped "$PID"
exec 9>&-
echo PASS
