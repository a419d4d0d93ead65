# Patch the libbz2 Debian installed (/usr/lib/x86_64-linux-gnu/libbz2.so.1.0.4:
# stripped, built by Debian's buildd in 2022 with gcc-12) in a running process
# with `graft build --debian-source`: graft finds the package from the file
# (dpkg knows it as /lib/x86_64-linux-gnu/...: merged /usr), fetches bzip2's
# source, builds it the way debian/rules does, and only the PIC objects
# (bzip2's Makefile names them x.sho) linked into the library are diffed; the
# rebuilt library reproduces Debian's byte for byte and lends the stripped
# file its symbols. The fix changes an exported function (BZ2_bzlibVersion)
# and a static one (bzopen_or_bzdopen: mode "a" opened the file as a reader).
. "$(dirname "$0")/lib.sh"
LIB=/usr/lib/x86_64-linux-gnu/libbz2.so.1.0.4
[ -f "$LIB" ] || fail "$LIB is not installed (apt-get install libbz2-1.0)"
[ -f /usr/include/bzlib.h ] || fail "bzlib.h is not installed (apt-get install libbz2-dev)"
SRC=$(dpkg-query -W -f '${source:Version}' libbz2-1.0)
step "the fix, against Debian's source of bzip2 $SRC"
export GRAFT_CACHE=${GRAFT_CACHE:-/var/cache/graft-tests}
bash "$(dirname "$0")/../../scripts/fetch-debian-source.sh" bzip2 "$SRC" "$W/dl" >"$W/fetch.log" 2>&1 ||
  fail "cannot fetch bzip2 $SRC: $(tail -2 "$W/fetch.log")"
dpkg-source -x "$W/dl/bzip2_${SRC#*:}.dsc" "$W/src" >/dev/null 2>&1
mkdir -p "$W/a" "$W/b"
cp "$W/src/bzlib.c" "$W/a/"; cp "$W/src/bzlib.c" "$W/b/"
sed -i 's/return BZ_VERSION;/return BZ_VERSION " +graft";/' "$W/b/bzlib.c"
# A bzip2 handle is a reader or a writer: "a" (and "r+", "w+") used to open a reader.
sed -i "s|      case 's':|      case 'a': case '+':\n         return NULL;  /* cannot append to or update a bzip2 stream */\n      case 's':|" "$W/b/bzlib.c"
(cd "$W" && diff -u a/bzlib.c b/bzlib.c) >"$W/fix.patch" || true
grep -q "case 'a'" "$W/fix.patch" && grep -q '+graft' "$W/fix.patch" || fail "the fix did not apply to this bzip2"
step "graft build --debian-source against the stripped, installed library"
"$GRAFT" build --debian-source --target "$LIB" --diff "$W/fix.patch" -o "$W/bz.graft" \
  --work-dir "$GRAFT_CACHE/bzip2-work" 2>&1 | tee "$W/build.txt"
grep -q "\[debian\] bzip2 $SRC in " "$W/build.txt" || fail "the source package was not found from $LIB"
grep -q "stripped  symbols from .*libbz2.so.1.0.4 (every mapped section identical" "$W/build.txt" ||
  fail "no symbol source reported"
# bzlib.c is compiled twice (bzlib.o for libbz2.a, bzlib.sho for the library): only the linked one is diffed.
grep -q "diffing 1 object pair(s)" "$W/build.txt" || fail "objects outside $LIB were diffed"
grep -q "replaces  bzopen_or_bzdopen" "$W/build.txt" || fail "the static function is not replaced"
grep -q "replaces  BZ2_bzlibVersion" "$W/build.txt" || fail "the exported function is not replaced"
want=$(readelf -n "$LIB" | awk '/Build ID/ {print $3}')
"$GRAFT" info "$W/bz.graft" --json | grep -q "\"target_build_id\": \"$want\"" ||
  fail "the bundle does not carry Debian's build-id $want"
step "the library named as ldconfig lists it (a symlink, under /lib) is the same target"
"$GRAFT" build --debian-source --target /lib/x86_64-linux-gnu/libbz2.so.1.0 --diff "$W/fix.patch" -o "$W/bz-link.graft" \
  --work-dir "$GRAFT_CACHE/bzip2-work" >"$W/link.txt" 2>&1 || fail "through the symlink: $(tail -1 "$W/link.txt")"
grep -q "stripped  symbols from .*libbz2.so.1.0.4 (every mapped section identical" "$W/link.txt" &&
  grep -q "diffing 1 object pair(s)" "$W/link.txt" || fail "the symlink's target was not found in the build: $(cat "$W/link.txt")"
"$GRAFT" info "$W/bz-link.graft" --json | grep -q "\"target_build_id\": \"$want\"" || fail "another build-id through the symlink"
step "a process running Debian's library"
gcc -O2 -o "$W/probe" "$PROGRAMS/bz2_probe.c" -lbz2
start probe "$W/out"
# The file the process maps is the one the package installed (dpkg's checksum), not a rebuild.
mapped=$(awk '/libbz2/ {print $6; exit}' /proc/"$PID"/maps)
[ "$(realpath "$mapped")" = "$LIB" ] || fail "the probe maps $mapped, not $LIB"
sum=$(md5sum "$mapped" | cut -d' ' -f1)
grep -q "^$sum  lib/x86_64-linux-gnu/libbz2.so.1.0.4\$" /var/lib/dpkg/info/libbz2-1.0:amd64.md5sums ||
  fail "$mapped is not the file libbz2-1.0 installed"
mark "$W/out"; expect "$W/out" '^version 1\.0\.8, [0-9A-Za-z-]+ append opened roundtrip ok$'
"$GRAFT" apply "$W/bz.graft" --pid "$PID"
mark "$W/out"; expect "$W/out" '^version 1\.0\.8, [0-9A-Za-z-]+ \+graft append refused roundtrip ok$'
"$GRAFT" revert bz --pid "$PID"
mark "$W/out"; expect "$W/out" '^version 1\.0\.8, [0-9A-Za-z-]+ append opened roundtrip ok$'
alive "$PID"; not_stopped "$PID"
echo PASS
