# graft as a Debian package: `cmake --build build --target package` writes
# graft_<version>_amd64.deb; its contents, control fields and lintian's
# verdict are checked, then it is installed with apt on a fresh Debian 12
# system (mmdebstrap; the tarball is cached under the build tree), where apt
# resolves its Depends from Debian's archive. That system is booted with
# systemd-nspawn, so its own systemd is PID 1 and the package's postinst
# starts graftd.service as on a real host; without systemd-nspawn it is a
# chroot and graftd is started exactly as the installed unit's ExecStart
# says. graftd trusts a key put into the package's /etc/graft/keys and
# patches a new process through the agent in /etc/ld.so.preload before its
# main(); graft status --json sees it. Purging stops graftd and removes
# graft, its state and its ld.so.preload line; the administrator's keys stay.
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
dpkg-deb -I "$DEB" >"$W/info"
grep -qE '^ +[0-9]+ bytes, +[0-9]+ lines +\* +postinst' "$W/info" || fail "no executable postinst: $(cat "$W/info")"
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

# The system under test: a fresh Debian 12 system in R; inroot runs a command there.
command -v mmdebstrap >/dev/null || fail "no mmdebstrap: apt-get install mmdebstrap (scripts/install-deps.sh)"
CACHE=$BUILD/deb-root
TARBALL=$CACHE/bookworm-systemd.tar
mkdir -p "$CACHE/archives/partial"
if [ ! -f "$TARBALL" ]; then
  step "bootstrapping Debian 12 (once per build tree)"
  t0=$SECONDS
  mmdebstrap --variant=apt --include=systemd --mode=root --quiet bookworm "$CACHE/part.tar" >"$W/mmdebstrap.log" 2>&1 ||
    fail "mmdebstrap: $(tail -5 "$W/mmdebstrap.log")"
  mv "$CACHE/part.tar" "$TARBALL"
  echo "bootstrapped in $((SECONDS - t0)) s: $TARBALL"
fi
R=$W/root
MOUNTS=()
BOOT_PID=
GD_PID=
finish() {
  [ -z "$GD_PID" ] || { kill "$GD_PID" 2>/dev/null || true; wait "$GD_PID" 2>/dev/null || true; }
  # SIGTERM to systemd-nspawn (under timeout) powers the container off.
  [ -z "$BOOT_PID" ] || { kill "$BOOT_PID" 2>/dev/null || true; wait "$BOOT_PID" 2>/dev/null || true; }
  for m in "${MOUNTS[@]}"; do umount -R "$m" 2>/dev/null || umount -l "$m" || true; done
  # Never rm -rf through a mount of the host's /dev, /proc or /sys.
  if grep -q " $R/" /proc/mounts; then KEEP_W=1; echo "still mounted under $R: left in place" >&2; fi
  cleanup
}
trap finish EXIT
mkdir "$R"
tar -xf "$TARBALL" -C "$R"
cp /etc/resolv.conf "$R/etc/resolv.conf"
cp -r "$W/demo" "$R/opt/graft-demo"
cp "$DEB" "$R/opt/graft-demo/"
ENV=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive)
if command -v systemd-nspawn >/dev/null && [ -z "${GRAFT_DEB_CHROOT:-}" ]; then
  MODE=systemd
  step "booting it: systemd-nspawn --boot"
  # Downloaded packages are kept for the next run.
  timeout 900 systemd-nspawn --quiet --boot --register=no --keep-unit -D "$R" \
    --bind="$CACHE/archives:/var/cache/apt/archives" >"$W/boot.log" 2>&1 &
  BOOT_PID=$!
  LEADER=
  for _ in $(seq 100); do
    nspawn=$(ps -e -o pid=,ppid= | awk -v p="$BOOT_PID" '$2 == p {print $1}')
    [ -z "$nspawn" ] || LEADER=$(ps -e -o pid=,ppid=,comm= | awk -v p="$nspawn" '$2 == p && $3 == "systemd" {print $1}')
    [ -n "$LEADER" ] && break
    sleep 0.1
  done
  [ -n "$LEADER" ] || fail "the container did not start: $(tail -5 "$W/boot.log")"
  inroot() { nsenter -t "$LEADER" -a "${ENV[@]}" "$@"; }
  for _ in $(seq 200); do inroot test -S /run/systemd/private && break; sleep 0.05; done
  state=$(inroot timeout 120 systemctl is-system-running --wait || true)
  [ "$state" = running ] || [ "$state" = degraded ] || fail "the container's systemd: $state $(tail -5 "$W/boot.log")"
  echo "systemd is PID 1 there: $state"
else
  MODE=chroot
  step "entering it: chroot (no systemd-nspawn)"
  for m in proc sys dev; do
    mount --rbind "/$m" "$R/$m" && mount --make-rslave "$R/$m" && MOUNTS=("$R/$m" "${MOUNTS[@]}") || fail "mount $m"
  done
  mount --bind "$CACHE/archives" "$R/var/cache/apt/archives" && MOUNTS=("$R/var/cache/apt/archives" "${MOUNTS[@]}")
  inroot() { chroot "$R" "${ENV[@]}" "$@"; }
fi
[ -z "$(inroot dpkg-query -W -f '${Status}' graft 2>/dev/null || true)" ] || fail "graft in the fresh system"
inroot apt-get update -qq >"$W/apt.log" 2>&1 || fail "apt-get update there: $(tail -5 "$W/apt.log")"

step "apt install ./graft_${VERSION}_amd64.deb"
t0=$SECONDS
inroot apt-get install -y -q --no-install-recommends "/opt/graft-demo/$(basename "$DEB")" >"$W/install.log" 2>&1 ||
  fail "apt install: $(tail -15 "$W/install.log")"
echo "installed in $((SECONDS - t0)) s with:" \
  $(sed -n '/NEW packages will be installed/,/^[0-9]/p' "$W/install.log" | sed '1d;$d')
[ "$(inroot dpkg-query -W -f '${Status}' graft)" = "install ok installed" ] || fail "dpkg: $(inroot dpkg-query -W graft)"
[ "$(inroot graft --version)" = "graft $VERSION" ] || fail "installed graft --version: $(inroot graft --version 2>&1)"
for d in /etc/graft/keys /var/lib/graft/bundles /var/lib/graft/kernel; do [ -d "$R$d" ] || fail "postinst made no $d"; done
cmp -s "$R/usr/include/graft/livepatch.h" <("$GRAFT" kernel header) || fail "installed livepatch.h differs from graft kernel header"
# postinst enables the unit (deb-systemd-helper), also where systemd does not run.
[ -L "$R/etc/systemd/system/multi-user.target.wants/graftd.service" ] || fail "graftd.service is not enabled"

UNIT=$R/lib/systemd/system/graftd.service
if [ $MODE = systemd ]; then
  step "graftd.service started by the postinst"
  [ "$(inroot systemctl is-active graftd.service)" = active ] ||
    fail "graftd.service: $(inroot systemctl status graftd.service --no-pager 2>&1)"
  inroot systemctl show graftd.service -p ExecStart -p MainPID --no-pager | sed 's/ ; ignore_errors.*//'
  graftd_log() { inroot journalctl -u graftd.service --no-pager -o cat; }
else
  step "graftd started as the installed unit says"
  exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
  runtime_dir=$(sed -n 's/^RuntimeDirectory=//p' "$UNIT")
  echo "ExecStart=$exec_start RuntimeDirectory=$runtime_dir"
  [ "$runtime_dir" = graft ] && [ -n "$exec_start" ] || fail "unit: $(cat "$UNIT")"
  # What systemd does before ExecStart: the runtime directory; root, no stdin.
  mkdir -p "$R/run/$runtime_dir"
  read -r -a argv <<<"$exec_start"
  # exec: the background job's pid is graftd's (timeout's, which passes signals on).
  (exec chroot "$R" "${ENV[@]}" timeout 300 "${argv[@]}" </dev/null >"$W/graftd.log" 2>&1) &
  GD_PID=$!
  graftd_log() { cat "$W/graftd.log"; }
fi
for _ in $(seq 200); do inroot test -S /run/graft/agent.sock && break; sleep 0.05; done
inroot test -S /run/graft/agent.sock || fail "graftd did not listen: $(graftd_log)"

step "a new process is patched before main() through /etc/ld.so.preload"
install -m 0644 "$R/opt/graft-demo/packager.pub" "$R/etc/graft/keys/"
inroot graft install /opt/graft-demo/first.graft /opt/graft-demo/lib.graft >"$W/graft-install.log" 2>&1 ||
  fail "graft install with the packaged trust store: $(cat "$W/graft-install.log")"
[ "$(inroot cat /run/graft/agent.index | grep -c .)" = 2 ] || fail "agent index: $(inroot cat /run/graft/agent.index)"
[ "$(inroot /opt/graft-demo/first)" = "compute 42 lib 2" ] || fail "unpatched output: $(inroot /opt/graft-demo/first 2>&1)"
echo /usr/lib/graft/libgraft-agent.so >>"$R/etc/ld.so.preload"
out=$(inroot /opt/graft-demo/first 2>"$W/agent.err")
[ "$out" = "compute 63 lib 1001" ] || fail "new process ran unpatched: $out $(cat "$W/agent.err"); graftd: $(graftd_log | tail -3)"
[ ! -s "$W/agent.err" ] || fail "agent messages: $(cat "$W/agent.err")"
graftd_log | grep "new process: .*first-fix" || fail "graftd log: $(graftd_log)"

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
if [ $MODE = chroot ]; then
  kill "$GD_PID"; wait "$GD_PID" 2>/dev/null || true; GD_PID=
  [ ! -e "$R/run/graft/agent.sock" ] || fail "graftd left its socket behind"
fi

if [ $MODE = systemd ]; then
  step "reinstalled (as an upgrade is): graftd restarted, still enabled"
  pid0=$(inroot systemctl show graftd.service -p MainPID --value)
  inroot apt-get install -y -q --reinstall "/opt/graft-demo/$(basename "$DEB")" >"$W/reinstall.log" 2>&1 ||
    fail "reinstall: $(tail -5 "$W/reinstall.log")"
  pid1=$(inroot systemctl show graftd.service -p MainPID --value)
  [ "$(inroot systemctl is-active graftd.service)" = active ] && [ "$pid1" != "$pid0" ] && [ "$pid1" != 0 ] ||
    fail "graftd after reinstall: MainPID $pid0 -> $pid1, $(inroot systemctl is-active graftd.service)"
  [ "$(inroot systemctl is-enabled graftd.service)" = enabled ] || fail "graftd.service is no longer enabled"
  echo "MainPID $pid0 -> $pid1"
fi

step "apt purge graft"
inroot apt-get purge -y -q graft >"$W/purge.log" 2>&1 || fail "purge: $(tail -5 "$W/purge.log")"
if [ $MODE = systemd ]; then
  # prerm stopped it; postrm's daemon-reload forgot the unit.
  st=$(inroot systemctl is-active graftd.service || true)
  [ "$st" = inactive ] || fail "graftd.service after purge: $st"
  ! inroot test -e /run/graft/agent.sock || fail "graftd's socket is left after purge"
fi
for f in /usr/bin/graft /usr/lib/graft /usr/include/graft /lib/systemd/system/graftd.service /var/lib/graft \
         /etc/systemd/system/multi-user.target.wants/graftd.service; do
  [ ! -e "$R$f" ] && [ ! -L "$R$f" ] || fail "$f is left after purge"
done
# The administrator's trust decisions outlive the package; nothing else does.
[ "$(ls "$R/etc/graft/keys")" = packager.pub ] || fail "trust store after purge: $(ls -R "$R/etc/graft")"
! grep -q libgraft-agent "$R/etc/ld.so.preload" || fail "the agent is left in /etc/ld.so.preload"
[ "$(inroot /opt/graft-demo/first 2>&1)" = "compute 42 lib 2" ] || fail "after purge: $(inroot /opt/graft-demo/first 2>&1)"
echo "OK ($MODE)"
