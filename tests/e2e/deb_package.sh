# graft as a Debian package: `cmake --build build --target package` writes
# graft_<version>_amd64.deb; its contents, control fields and lintian's
# verdict are checked, then it is installed with apt on a fresh Debian 12
# root (mmdebstrap; the base tarball is cached under the build tree), where
# apt resolves its Depends from Debian's archive. There graftd is started
# exactly as the installed unit's ExecStart says (no systemd runs in this
# container), trusts a key put into the package's /etc/graft/keys, and
# patches a new process through the agent in /etc/ld.so.preload before its
# main(); graft status --json sees it. Purging then removes graft, its
# state and its ld.so.preload line, and keeps the administrator's keys.
. "$(dirname "$0")/lib.sh"
BUILD=$(cd "$(dirname "$GRAFT")" && pwd)
unset GRAFT_ALLOW_UNSIGNED

step "the package"
cmake --build "$BUILD" --target package >"$W/cpack.log" 2>&1 || fail "cpack: $(tail -5 "$W/cpack.log")"
VERSION=$("$GRAFT" --version | awk '{print $2}')
DEB=$BUILD/graft_${VERSION}_amd64.deb
[ -f "$DEB" ] || fail "no $DEB: $(tail -3 "$W/cpack.log")"
dpkg-deb -c "$DEB" | awk '{print $1, $6}' >"$W/contents"
for f in ./usr/bin/graft ./usr/lib/graft/libgraft-agent.so ./lib/systemd/system/graftd.service \
         ./usr/include/graft/livepatch.h ./usr/share/doc/graft/host.md ./usr/share/doc/graft/copyright \
         ./usr/share/doc/graft/changelog.gz ./etc/graft/keys/ ./var/lib/graft/; do
  grep -q " $f\$" "$W/contents" || fail "$f is not in the package: $(cat "$W/contents")"
done
grep -q '^-rwxr-xr-x ./usr/bin/graft$' "$W/contents" || fail "graft is not executable: $(grep bin/graft "$W/contents")"
grep -q '^-rw-r--r-- ./usr/lib/graft/libgraft-agent.so$' "$W/contents" || fail "agent mode: $(grep agent "$W/contents")"
field() { dpkg-deb -f "$DEB" "$1"; }
[ "$(field Package)" = graft ] && [ "$(field Version)" = "$VERSION" ] && [ "$(field Architecture)" = amd64 ] ||
  fail "control: $(dpkg-deb -f "$DEB")"
depends=$(field Depends)
echo "Depends: $depends"
for lib in libc6 libstdc++6 libelf1 libdw1 libcapstone4 libsodium23 libsqlite3-0; do
  [[ ", $depends" == *", $lib "* ]] || fail "Depends lacks $lib (dpkg-shlibdeps): $depends"
done
for tool in gcc make patch binutils dpkg-dev; do
  [[ ", $depends," != *", $tool "* && ", $depends," != *", $tool,"* ]] || fail "$tool is in Depends, it must be Recommends: $depends"
done
[[ "$(field Recommends)" == *gcc* ]] || fail "Recommends: $(field Recommends)"
dpkg-deb -I "$DEB" | grep -qE '^ +[0-9]+ bytes, +[0-9]+ lines +\* +postinst' || fail "no postinst: $(dpkg-deb -I "$DEB")"
dpkg-deb -e "$DEB" "$W/control"
for s in postinst prerm postrm; do sh -n "$W/control/$s" || fail "$s: syntax"; done
if command -v lintian >/dev/null; then
  # Errors fail the test; warnings (no manual page, ...) are printed.
  lintian --fail-on error "$DEB" >"$W/lintian.txt" 2>&1 ||
    fail "lintian: $(cat "$W/lintian.txt")"
  echo "lintian: no errors, $(grep -c '^W:' "$W/lintian.txt" || true) warning(s)"; grep '^W:' "$W/lintian.txt" || true
fi
if command -v systemd-analyze >/dev/null; then
  # verify checks that ExecStart's program is executable: point it at the
  # unpacked package's. Unknown keys are reported without failing: any output fails.
  dpkg-deb -x "$DEB" "$W/x"
  mkdir "$W/units"
  sed "s#^ExecStart=/#ExecStart=$W/x/#" "$W/x/lib/systemd/system/graftd.service" >"$W/units/graftd.service"
  SYSTEMD_UNIT_PATH=$W/units:/lib/systemd/system systemd-analyze verify "$W/units/graftd.service" >"$W/verify.txt" 2>&1 &&
    [ ! -s "$W/verify.txt" ] || fail "systemd-analyze verify graftd.service: $(cat "$W/verify.txt")"
  echo "systemd-analyze verify graftd.service: clean"
fi

# A program and a library it links, with a signed fix for each, built here
# and copied into the root: the installed graftd must patch it at start.
mkdir -p "$W/demo" "$W/keys"
gcc -O2 -g -fPIC -shared -o "$W/demo/libdemo.so" "$PROGRAMS/libdemo.c"
gcc -O2 -g -o "$W/demo/first" "$PROGRAMS/first_call.c" -L"$W/demo" -ldemo -Wl,-rpath,/opt/graft-demo
for v in orig fixed; do
  d=; [ $v = fixed ] && d=-DFIXED
  gcc -O2 -g -fPIC -ffunction-sections -fdata-sections $d -c "$PROGRAMS/libdemo.c" -o "$W/libdemo.$v.o"
  gcc -O2 -g -ffunction-sections -fdata-sections $d -c "$PROGRAMS/first_call.c" -o "$W/first.$v.o"
done
"$GRAFT" build --orig "$W/first.orig.o" --patched "$W/first.fixed.o" --target "$W/demo/first" -o "$W/demo/first.graft" --id first-fix >/dev/null
"$GRAFT" build --orig "$W/libdemo.orig.o" --patched "$W/libdemo.fixed.o" --target "$W/demo/libdemo.so" -o "$W/demo/lib.graft" --id lib-fix >/dev/null
"$GRAFT" keygen packager --dir "$W/keys" >/dev/null
"$GRAFT" sign "$W/demo/first.graft" "$W/demo/lib.graft" --key "$W/keys/packager.key" >/dev/null
cp "$W/keys/packager.pub" "$W/demo/"

# The system under test: a fresh Debian 12 root, R, and inroot to run there.
command -v mmdebstrap >/dev/null || fail "no mmdebstrap: apt-get install mmdebstrap (scripts/install-deps.sh)"
step "a fresh Debian 12 root"
CACHE=$BUILD/deb-root
mkdir -p "$CACHE/archives/partial"
if [ ! -f "$CACHE/bookworm-apt.tar" ]; then
  t0=$SECONDS
  mmdebstrap --variant=apt --mode=root --quiet bookworm "$CACHE/bookworm-apt.tar.part" >"$W/mmdebstrap.log" 2>&1 ||
    fail "mmdebstrap: $(tail -5 "$W/mmdebstrap.log")"
  mv "$CACHE/bookworm-apt.tar.part" "$CACHE/bookworm-apt.tar"
  echo "bootstrapped in $((SECONDS - t0)) s (cached: $CACHE/bookworm-apt.tar)"
fi
R=$W/root
MOUNTS=()
GD_PID=
finish() {
  [ -z "$GD_PID" ] || { kill "$GD_PID" 2>/dev/null || true; wait "$GD_PID" 2>/dev/null || true; }
  for m in "${MOUNTS[@]}"; do umount -R "$m" 2>/dev/null || umount -l "$m" || true; done
  cleanup
}
trap finish EXIT
mkdir "$R"
tar -xf "$CACHE/bookworm-apt.tar" -C "$R"
cp /etc/resolv.conf "$R/etc/resolv.conf"
for m in proc sys dev; do
  mount --rbind "/$m" "$R/$m" && mount --make-rslave "$R/$m" && MOUNTS=("$R/$m" "${MOUNTS[@]}") || fail "mount $m"
done
# Downloaded packages are kept for the next run.
mount --bind "$CACHE/archives" "$R/var/cache/apt/archives" && MOUNTS=("$R/var/cache/apt/archives" "${MOUNTS[@]}")
inroot() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
# The same, replacing the calling (sub)shell: a background job's pid is then the command's.
exec_inroot() { exec chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
[ -z "$(inroot dpkg-query -W -f '${Status}' graft 2>/dev/null || true)" ] || fail "graft in the fresh root"
inroot apt-get update -qq >"$W/apt.log" 2>&1 || fail "apt-get update in the root: $(tail -5 "$W/apt.log")"

step "apt install ./graft_${VERSION}_amd64.deb"
cp "$DEB" "$R/tmp/"
cp -r "$W/demo" "$R/opt/graft-demo"
t0=$SECONDS
inroot apt-get install -y -q --no-install-recommends "/tmp/$(basename "$DEB")" >"$W/install.log" 2>&1 ||
  fail "apt install: $(tail -15 "$W/install.log")"
echo "installed in $((SECONDS - t0)) s with:" \
  $(sed -n '/NEW packages will be installed/,/^[0-9]/p' "$W/install.log" | sed '1d;$d')
[ "$(inroot dpkg-query -W -f '${Status}' graft)" = "install ok installed" ] || fail "dpkg: $(inroot dpkg-query -W graft)"
[ "$(inroot graft --version)" = "graft $VERSION" ] || fail "installed graft --version: $(inroot graft --version 2>&1)"
for d in /etc/graft/keys /var/lib/graft/bundles /var/lib/graft/kernel; do [ -d "$R$d" ] || fail "postinst made no $d"; done
# postinst enables the unit (deb-systemd-helper) also where systemd does not run.
[ -L "$R/etc/systemd/system/multi-user.target.wants/graftd.service" ] || fail "graftd.service is not enabled"
cmp -s "$R/usr/include/graft/livepatch.h" <("$GRAFT" kernel header) || fail "installed livepatch.h differs from graft kernel header"

step "graftd started as the installed unit says"
UNIT=$R/lib/systemd/system/graftd.service
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
runtime_dir=$(sed -n 's/^RuntimeDirectory=//p' "$UNIT")
echo "ExecStart=$exec_start RuntimeDirectory=$runtime_dir"
[ -n "$exec_start" ] && [ -n "$runtime_dir" ] || fail "unit: $(cat "$UNIT")"
install -m 0644 "$R/opt/graft-demo/packager.pub" "$R/etc/graft/keys/"
inroot graft install /opt/graft-demo/first.graft /opt/graft-demo/lib.graft >"$W/graft-install.log" 2>&1 ||
  fail "graft install with the packaged trust store: $(cat "$W/graft-install.log")"
# What systemd does before ExecStart: the runtime directory; root, no stdin.
mkdir -p "$R/run/$runtime_dir"
read -r -a argv <<<"$exec_start"
exec_inroot timeout 300 "${argv[@]}" </dev/null >"$W/graftd.log" 2>&1 &
GD_PID=$!
for _ in $(seq 200); do [ -S "$R/run/$runtime_dir/agent.sock" ] && break; sleep 0.05; done
[ -S "$R/run/$runtime_dir/agent.sock" ] || fail "graftd did not listen: $(cat "$W/graftd.log")"
grep -c . "$R/run/$runtime_dir/agent.index" | grep -qx 2 || fail "agent index: $(cat "$R/run/$runtime_dir/agent.index")"
[ "$(inroot /opt/graft-demo/first)" = "compute 42 lib 2" ] || fail "unpatched output: $(inroot /opt/graft-demo/first 2>&1)"

step "a new process is patched before main() through /etc/ld.so.preload"
echo /usr/lib/graft/libgraft-agent.so >>"$R/etc/ld.so.preload"
out=$(inroot /opt/graft-demo/first 2>"$W/agent.err")
[ "$out" = "compute 63 lib 1001" ] || fail "new process ran unpatched: $out $(cat "$W/agent.err"); graftd: $(tail -3 "$W/graftd.log")"
[ ! -s "$W/agent.err" ] || fail "agent messages: $(cat "$W/agent.err")"
grep -q "new process: .*first-fix" "$W/graftd.log" || fail "graftd log: $(cat "$W/graftd.log")"

step "graft status --json"
inroot graft status --json >"$W/status.json" || fail "graft status --json failed"
python3 - "$W/status.json" <<'PY' || fail "status: $(cat "$W/status.json")"
import json, sys
st = json.load(open(sys.argv[1]))
ids = sorted(b["id"] for b in st["bundles"])
assert ids == ["first-fix", "lib-fix"], ids
assert all(b.get("signed_by") == "packager" and "problem" not in b for b in st["bundles"]), st["bundles"]
print("status: bundles", ids, "signed by packager")
PY
kill "$GD_PID"; wait "$GD_PID" 2>/dev/null || true; GD_PID=
[ ! -e "$R/run/$runtime_dir/agent.sock" ] || fail "graftd left its socket behind"

step "apt purge graft"
inroot apt-get purge -y -q graft >"$W/purge.log" 2>&1 || fail "purge: $(tail -5 "$W/purge.log")"
for f in /usr/bin/graft /usr/lib/graft /usr/include/graft /lib/systemd/system/graftd.service /var/lib/graft \
         /etc/systemd/system/multi-user.target.wants/graftd.service; do
  [ ! -e "$R$f" ] && [ ! -L "$R$f" ] || fail "$f is left after purge"
done
# The administrator's trust decisions outlive the package; nothing else does.
[ "$(ls "$R/etc/graft/keys")" = packager.pub ] || fail "trust store after purge: $(ls -R "$R/etc/graft")"
! grep -q libgraft-agent "$R/etc/ld.so.preload" || fail "the agent is left in /etc/ld.so.preload"
[ "$(inroot /opt/graft-demo/first 2>&1)" = "compute 42 lib 2" ] || fail "after purge: $(inroot /opt/graft-demo/first 2>&1)"
echo "OK"
