# Patch the libyaml Debian installed (libyaml-0.so.2.0.9: stripped, built by
# Debian in 2022 with GCC 11) in a running process with
# `graft build --debian-source`: graft finds the source package and version
# from the file (dpkg -S), fetches it, and builds it the way debian/rules
# does; with today's gcc-12 the rebuild differs from Debian's, so the build
# names gcc-11 (--compiler), and the rebuilt library then lends the stripped
# file its symbols. Exported and static (yaml_check_utf8) functions change.
. "$(dirname "$0")/lib.sh"
LIB=/usr/lib/x86_64-linux-gnu/libyaml-0.so.2.0.9
[ -f "$LIB" ] || fail "$LIB is not installed (apt-get install libyaml-0-2)"
command -v gcc-11 >/dev/null || fail "gcc-11 is not installed (apt-get install gcc-11)"
SRC=$(dpkg-query -W -f '${Version}' libyaml-0-2)
step "the fix, against Debian's source of libyaml $SRC"
export GRAFT_CACHE=${GRAFT_CACHE:-/var/cache/graft-tests}
bash "$(dirname "$0")/../../scripts/fetch-debian-source.sh" libyaml "$SRC" "$W/dl" >/dev/null 2>&1 ||
  fail "cannot fetch libyaml $SRC"
dpkg-source -x "$W/dl/libyaml_${SRC#*:}.dsc" "$W/src" >/dev/null
mkdir -p "$W/a/src" "$W/b/src"
cp "$W/src/src/api.c" "$W/a/src/"; cp "$W/src/src/api.c" "$W/b/src/"
sed -i '0,/return YAML_VERSION_STRING;/s//return YAML_VERSION_STRING "+graft";/' "$W/b/src/api.c"
sed -i 's/(width == 4 \&\& value >= 0x10000))) return 0;/(width == 4 \&\& value >= 0x10000))) return 0;\n        if ((value \& 0xFFFE) == 0xFFFE) return 0;/' "$W/b/src/api.c"
(cd "$W" && diff -u a/src/api.c b/src/api.c) >"$W/fix.patch" || true
grep -q 0xFFFE "$W/fix.patch" || fail "the fix did not apply to this libyaml"
step "graft build --debian-source --compiler gcc-11"
"$GRAFT" build --debian-source --compiler gcc-11 --target "$LIB" --diff "$W/fix.patch" -o "$W/y.graft" \
  --work-dir "$GRAFT_CACHE/libyaml-work" | tee "$W/build.txt"
grep -q "stripped  symbols from .*libyaml-0.so.2.0.9 (every mapped section identical" "$W/build.txt" ||
  fail "no symbol source reported"
grep -q "replaces  yaml_check_utf8" "$W/build.txt" || fail "the static function is not replaced"
grep -q "replaces  yaml_get_version_string" "$W/build.txt" || fail "the exported function is not replaced"
step "a process running Debian's library"
gcc -O2 -o "$W/probe" "$PROGRAMS/yaml_probe.c" -lyaml
start probe "$W/out"
mark "$W/out"; expect "$W/out" '^version 0.2.5 fffe accepted$'
"$GRAFT" apply "$W/y.graft" --pid "$PID"
mark "$W/out"; expect "$W/out" '^version 0.2.5\+graft fffe refused$'
"$GRAFT" revert y --pid "$PID"
mark "$W/out"; expect "$W/out" '^version 0.2.5 fffe accepted$'
alive "$PID"; not_stopped "$PID"
echo PASS
