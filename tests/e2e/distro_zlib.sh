# Patch the zlib Debian installed (/usr/lib/x86_64-linux-gnu/libz.so.1.2.13:
# stripped, built by Debian with its flags) in a running process, from
# `apt-get source zlib` of the installed version, built the way debian/rules
# builds it. The rebuilt library reproduces Debian's byte for byte, so it
# lends the stripped file its symbols; the fix changes an exported function
# (compressBound) and a static one (deflate_fast, called through a table).
. "$(dirname "$0")/lib.sh"
LIB=/usr/lib/x86_64-linux-gnu/libz.so.1.2.13
VERSION=$(dpkg-query -W -f '${Version}' zlib1g)
[ -f "$LIB" ] || fail "$LIB is not installed"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${GRAFT_CACHE:-/var/cache/graft-tests}/zlib
step "zlib $VERSION from Debian's source package"
bash "$ROOT/scripts/fetch-debian-source.sh" zlib "$VERSION" "$CACHE" >"$W/fetch.log" 2>&1 || fail "fetch: $(tail -2 "$W/fetch.log")"
dpkg-source -x "$CACHE/zlib_${VERSION#*:}.dsc" "$W/src" >/dev/null
# The fix, as a diff in src.orig/ src/ form.
mkdir -p "$W/a" "$W/b"
cp "$W/src/deflate.c" "$W/src/compress.c" "$W/a/"
cp "$W/src/deflate.c" "$W/src/compress.c" "$W/b/"
sed -i 's/match_length <= s->max_insert_length \&\&/match_length < s->max_insert_length \&\&/' "$W/b/deflate.c"
sed -i 's|(sourceLen >> 25) + 13;|(sourceLen >> 25) + 13 + 1;|' "$W/b/compress.c"
(cd "$W" && diff -u a/deflate.c b/deflate.c; cd "$W" && diff -u a/compress.c b/compress.c) >"$W/fix.patch" || true
grep -q '^+.*13 + 1' "$W/fix.patch" || fail "the fix did not apply to this zlib"
step "graft build against the stripped, installed library"
"$GRAFT" build --source "$W/src" --diff "$W/fix.patch" --build 'rm -f build-stamp && debian/rules build-stamp' \
  --target "$LIB" -o "$W/z.graft" --work-dir "${GRAFT_CACHE:-/var/cache/graft-tests}/zlib-work" | tee "$W/build.txt"
grep -q "stripped  symbols from .*linked.*libz.so.1.2.13 (every mapped section identical" "$W/build.txt" ||
  fail "no symbol source reported"
grep -q "replaces  deflate_fast" "$W/build.txt" || fail "the static function is not replaced"
grep -q "replaces  compressBound" "$W/build.txt" || fail "the exported function is not replaced"
want=$(readelf -n "$LIB" | awk '/Build ID/ {print $3}')
"$GRAFT" info "$W/z.graft" --json | grep -q "\"target_build_id\": \"$want\"" || fail "the bundle does not carry Debian's build-id $want"
step "a symbol source that does not match is refused, naming the difference"
gcc -O2 -shared -fPIC -o "$W/other.so" "$W/src/adler32.c" -I"$W/src"
if "$GRAFT" build --source "$W/src" --diff "$W/fix.patch" --build 'rm -f build-stamp && debian/rules build-stamp' \
  --target "$LIB" -o "$W/bad.graft" --symbols "$W/other.so" --work-dir "${GRAFT_CACHE:-/var/cache/graft-tests}/zlib-work" 2>"$W/err" >/dev/null; then
  fail "accepted symbols from another library"
fi
grep -q "is stripped and .*other.so: " "$W/err" || fail "unclear refusal: $(cat "$W/err")"
step "a process running Debian's library"
gcc -O2 -o "$W/probe" "$PROGRAMS/zlib_probe.c" -lz
start probe "$W/out"
grep -q "$LIB\|libz.so.1.2.13" /proc/"$PID"/maps || fail "the probe does not map $LIB"
mark "$W/out"; expect "$W/out" '^bound 1013 level1 [0-9]+ roundtrip ok$'
before=$(tail -1 "$W/out" | awk '{print $4}')
"$GRAFT" apply "$W/z.graft" --pid "$PID"
mark "$W/out"; expect "$W/out" '^bound 1014 level1 [0-9]+ roundtrip ok$'
after=$(tail -1 "$W/out" | awk '{print $4}')
[ "$after" != "$before" ] || fail "deflate_fast's output did not change ($before)"
"$GRAFT" revert z --pid "$PID"
mark "$W/out"; expect "$W/out" "^bound 1013 level1 $before roundtrip ok\$"
alive "$PID"; not_stopped "$PID"
echo PASS
