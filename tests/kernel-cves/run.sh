#!/usr/bin/env bash
# The kernel CVE corpus: real fixes from Debian 12's kernel stable updates
# (linux 6.1.176-1 → 6.1.192-3), each one upstream commit cut as a -p1 diff
# against 6.1.176, built by `graft kernel build --debian-source` and loaded
# into the older kernel it fixes (linux-image-6.1.0-50-amd64, 6.1.176-1)
# booted in QEMU, as an operator running that kernel would.
#
#   tests/kernel-cves/run.sh [--json FILE] [--md FILE] [--work DIR] [--keep]
#                            [--min-pass N] [--list] [CASE...]
#
# A case is a directory here with fix.patch and case.sh (title, CVE, file,
# object, target modules the guest needs, and a guest check: a shell command
# with what it prints on the vulnerable code and on the fixed code). Per case:
#   built     graft kernel build made the live patch module (cold: a new
#             work directory; warm: the same work directory again)
#   loaded    `graft kernel load` in the guest succeeded
#   checked   the check printed the buggy answer before loading, the fixed
#             one while loaded and the buggy one again after unloading (for
#             fixes with no effect visible from user space, OBSERVABLE=no,
#             the same answer all three times: the patched code still works)
#   unloaded  `graft kernel unload` succeeded and the kernel log of the case
#             holds no Oops, BUG, WARNING or call trace
# All cases run in ONE boot of the kernel, in order. The runner prints a
# table and the pass rate, and exits non-zero when fewer than --min-pass
# (default 10) cases pass all four steps.
#
# Environment: GRAFT (the graft binary, default build/graft), GRAFT_CACHE
# (Debian kernel sources and the guest's kallsyms; default
# /var/cache/graft-tests), KCVE_KERNEL (default 6.1.0-50-amd64: needs its
# image, headers and modules installed).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
GRAFT=${GRAFT:-$ROOT/build/graft}
export GRAFT_CACHE=${GRAFT_CACHE:-/var/cache/graft-tests}
KREL=${KCVE_KERNEL:-6.1.0-50-amd64}
JSON="" MD="" WORK="" KEEP=0 LIST=0 MIN_PASS=10 CASES=()
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --json) JSON=$2; shift 2 ;;
    --md) MD=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --min-pass) MIN_PASS=$2; shift 2 ;;
    --list) LIST=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) CASES+=("${1%/}"); shift ;;
  esac
done
if [ ${#CASES[@]} -eq 0 ]; then
  for d in "$HERE"/*/case.sh; do CASES+=("$(basename "$(dirname "$d")")"); done
fi
for c in "${CASES[@]}"; do
  [ -f "$HERE/$c/case.sh" ] && [ -f "$HERE/$c/fix.patch" ] ||
    { echo "run.sh: no case named $c (needs $HERE/$c/case.sh and fix.patch)" >&2; exit 2; }
done
# case_vars NAME: the manifest's variables, with defaults.
case_vars() {
  TITLE="" CVE="" STABLE="" FILE="" OBJECT=vmlinux MODULES="" OBSERVABLE=yes SETUP="" CHECK="" BUGGY="" FIXED=""
  IMAGES=""
  . "$HERE/$1/case.sh"
}
if [ $LIST = 1 ]; then
  for c in "${CASES[@]}"; do
    (case_vars "$c"; printf '%-28s %-15s %-26s %-12s %-3s %s\n' "$c" "${CVE:--}" "$FILE" "$OBJECT" "$OBSERVABLE" "$TITLE")
  done
  exit 0
fi
[ -x "$GRAFT" ] || { echo "run.sh: graft binary $GRAFT not found; build first or set GRAFT" >&2; exit 2; }
[ -n "$WORK" ] || WORK=$(mktemp -d /tmp/graft-kcves.XXXXXX)
mkdir -p "$WORK"
W=$WORK                              # qemu.sh's helpers keep their files in $W
fail() { echo "run.sh: $*" >&2; exit 1; }
. "$ROOT/tests/kernel/qemu.sh"
kernel_pick "$KREL"
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
start=$(now)

echo "== vmlinux symbols of $KVER (/proc/kallsyms of a boot, cached)"
kernel_kallsyms "$W/kallsyms"
[ "$(wc -l <"$W/kallsyms")" -gt 10000 ] || fail "kallsyms of $KVER too short"

echo "== guest probe"
gcc -O2 -Wall -static -pthread -o "$W/kcve" "$HERE/probe.c" || fail "building probe.c failed"

# Builds: one line per case in $W/builds.tsv: name built cold warm module reason
: >"$W/builds.tsv"
for c in "${CASES[@]}"; do
  (
    case_vars "$c"
    cw=$W/$c; rm -rf "$cw"; mkdir -p "$cw"
    mod=kcve_${c//-/_}
    cves=(); [ -n "$CVE" ] && cves=(--cve "$CVE")
    build() {  # build OUT: graft kernel build into $cw/OUT.ko, same work dir
      "$GRAFT" kernel build --debian-source --kernel-release "$KVER" --diff "$HERE/$c/fix.patch" \
        --system-map "$W/kallsyms" "${cves[@]}" --description "$TITLE" -o "$cw/$1.ko" --json \
        --work-dir "$cw/graft-work" >"$cw/$1.json" 2>"$cw/$1.err"
    }
    echo "== [$c] graft kernel build ($FILE, $OBJECT)"
    t0=$(now); build "$mod"; rc=$?; cold=$(since "$t0")
    if [ $rc -ne 0 ]; then
      why=$(grep -v '^graft: \(extracting\|applying\|compiling\|diffing\|linking\|fetching\|using\|reusing\|extracted\|.* belongs to \)' "$cw/$mod.err" |
            grep -m1 -A3 '^graft:' | tr '\n' ' ' | sed 's/^graft: //; s/  */ /g')
      echo "[$c] refused/failed: $why"
      printf '%s\tfail\t%s\t-\t-\t%s\n' "$c" "$cold" "$why" >>"$W/builds.tsv"
      exit 0
    fi
    t0=$(now); build warm; warm=$(since "$t0")
    [ -f "$cw/warm.ko" ] || warm=-
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print("[%s] replaced %s in %s" % (sys.argv[2], ", ".join(s["replaced"]), s["object"]))' \
      "$cw/$mod.json" "$c" 2>/dev/null
    printf '%s\tok\t%s\t%s\t%s\t\n' "$c" "$cold" "$warm" "$mod" >>"$W/builds.tsv"
  )
done

echo "== guest"
R=$W/root
rm -rf "$R"; mkdir -p "$R/modules" "$R/target" "$R/images" "$R/cases" "$R/bin" "$R/mnt"
cp "$W/kcve" "$R/bin/"
targets=()
add_target() {  # add_target MOD: MOD (after its dependencies) into the guest's load order
  local m=$1 d
  for t in "${targets[@]}"; do [ "$t" = "$m" ] && return 0; done
  for d in $(modinfo -k "$KVER" -F depends "$m" 2>/dev/null | tr ',' ' '); do add_target "$d"; done
  local ko; ko=$(modinfo -k "$KVER" -n "$m" 2>/dev/null) || fail "module $m of $KVER not found"
  case $ko in
    *.ko) cp "$ko" "$R/target/$m.ko" ;;
    *.ko.xz) xz -dc "$ko" >"$R/target/$m.ko" ;;
    *) fail "module $m of $KVER: cannot use $ko" ;;
  esac
  targets+=("$m")
}
{
  echo 'dmesg -c >/tmp/boot.dmesg'
  echo 'mkdir -p /tmp /mnt; ln -sf /proc/self/fd /dev/fd 2>/dev/null'
  while IFS=$'\t' read -r c built cold warm mod why; do
    [ "$built" = ok ] || continue
    case_vars "$c"
    for m in $MODULES; do add_target "$m"; done
  done <"$W/builds.tsv"
  for m in "${targets[@]}"; do echo "run target.$m insmod /target/$m.ko"; done
  while IFS=$'\t' read -r c built cold warm mod why; do
    [ "$built" = ok ] || continue
    case_vars "$c"
    cp "$W/$c/$mod.ko" "$R/modules/"
    mkdir -p "$R/cases/$c"
    printf '%s\n' "$SETUP" >"$R/cases/$c/setup.sh"
    printf '%s\n' "$CHECK" >"$R/cases/$c/check.sh"
    for img in $IMAGES; do   # GENERATOR:IMAGE, the generator in the case directory
      python3 "$HERE/$c/${img%%:*}" "$R/images/${img#*:}" || fail "$c: ${img%%:*} failed"
    done
    cat <<SH
dmesg -c >/dev/null
run $c.setup sh /cases/$c/setup.sh
run $c.before sh /cases/$c/check.sh
run $c.load graft kernel load /modules/$mod.ko
run $c.after sh /cases/$c/check.sh
run $c.unload graft kernel unload $mod
run $c.again sh /cases/$c/check.sh
run $c.dmesg dmesg -c
SH
  done <"$W/builds.tsv"
  echo 'run boot.dmesg cat /tmp/boot.dmesg'
} | guest_init "$R"
initramfs_make "$R" "$W/initrd.gz"
t0=$(now)
qemu_boot "$W/initrd.gz" "$W/console" 1200
echo "guest ran in $(since "$t0") s"

echo
python3 - "$HERE" "$W" "$JSON" "$MD" "$MIN_PASS" "$KVER" "$(since "$start")" "${CASES[@]}" <<'PY'
import json, re, subprocess, sys
sys.path.insert(0, sys.argv[1] + "/../kernel")
from guest_log import GuestLog
here, w, jpath, mdpath, min_pass, kver, wall, cases = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6], sys.argv[7], sys.argv[8:]
g = GuestLog(w + "/console.txt")
finished = "@@done" in open(w + "/console.txt").read()
builds = {}
for line in open(w + "/builds.tsv"):
    f = line.rstrip("\n").split("\t")
    builds[f[0]] = f
def manifest(c):
    out = subprocess.run(["bash", "-c", '. "$1"; printf "%s\\0" "$TITLE" "$CVE" "$FILE" "${OBJECT:-vmlinux}" "${OBSERVABLE:-yes}" "$CHECK" "$BUGGY" "$FIXED" "$STABLE"',
                          "-", f"{here}/{c}/case.sh"], capture_output=True, text=True).stdout.split("\0")
    return dict(zip(["title", "cve", "file", "object", "observable", "check", "buggy", "fixed", "stable"], out))
bad = re.compile(r"Oops|BUG:|WARNING:|Call Trace|general protection|kernel panic", re.I)
rows = []
for c in cases:
    m = manifest(c)
    b = builds.get(c, [c, "fail", "-", "-", "-", "not built"])
    r = dict(case=c, cve=m["cve"] or "-", title=m["title"], file=m["file"], object=m["object"],
             observable=m["observable"] == "yes", stable=m["stable"], built="fail", loaded="-", checked="-", unloaded="-",
             cold_build_s=None if b[2] == "-" else float(b[2]), warm_build_s=None if b[3] == "-" else float(b[3]),
             reason=b[5] if len(b) > 5 else "", replaced=[], answers={})
    if b[1] == "ok":
        r["built"] = "ok"
        try:
            r["replaced"] = json.load(open(f"{w}/{c}/{b[4]}.json"))["replaced"]
        except Exception:
            pass
    def out(step):
        return g.runs.get(f"{c}.{step}", (None, None))
    if r["built"] == "ok":
        lo, lrc = out("load")
        if lrc is None:
            r["loaded"] = "not run"; r["reason"] = "the guest stopped before this case" + ("" if finished else " (it died: see console)")
        else:
            r["loaded"] = "ok" if lrc == 0 else "fail"
            if lrc != 0: r["reason"] = lo.strip().splitlines()[-1] if lo.strip() else f"rc {lrc}"
            ans = {s: (out(s)[0] or "").strip() for s in ("before", "after", "again")}
            r["answers"] = ans
            want = {"before": m["buggy"], "after": m["fixed"] if lrc == 0 else m["buggy"], "again": m["buggy"]}
            miss = [s for s in ans if not re.search(want[s], ans[s], re.M)]
            if lrc == 0:
                r["checked"] = "ok" if not miss else "fail"
                if miss and not r["reason"]:
                    r["reason"] = "; ".join(f"{s}: {ans[s]!r} !~ /{want[s]}/" for s in miss)
            uo, urc = out("unload")
            dm = out("dmesg")[0] or ""
            hits = [l for l in dm.splitlines() if bad.search(l)]
            if urc is not None and lrc == 0:
                r["unloaded"] = "ok" if urc == 0 and not hits else "fail"
                if urc != 0 and not r["reason"]: r["reason"] = "unload: " + uo.strip()
                if hits and not r["reason"]: r["reason"] = "kernel log: " + hits[0].strip()
    r["result"] = "pass" if all(r[k] == "ok" for k in ("built", "loaded", "checked", "unloaded")) else "fail"
    rows.append(r)
fmt = "%-28s %-15s %-5s %-7s %-7s %-8s %6s %6s  %s"
print(fmt % ("case", "cve", "built", "loaded", "checked", "unloaded", "cold", "warm", "result"))
for r in rows:
    t = lambda v: "-" if v is None else "%.1fs" % v
    print(fmt % (r["case"], r["cve"], r["built"], r["loaded"], r["checked"], r["unloaded"], t(r["cold_build_s"]),
                 t(r["warm_build_s"]), r["result"] + (": " + r["reason"] if r["reason"] and r["result"] != "pass" else "")))
passed = sum(r["result"] == "pass" for r in rows)
obs = sum(r["result"] == "pass" and r["observable"] for r in rows)
print(f"\npass rate: {passed}/{len(rows)} ({100 * passed // max(len(rows), 1)}%), {obs} of them observable from user space;"
      f" built {sum(r['built'] == 'ok' for r in rows)}, loaded {sum(r['loaded'] == 'ok' for r in rows)},"
      f" checked {sum(r['checked'] == 'ok' for r in rows)}, unloaded {sum(r['unloaded'] == 'ok' for r in rows)};"
      f" kernel {kver}; wall time {wall} s")
if jpath:
    json.dump({"kernel": kver, "cases": rows, "passed": passed, "total": len(rows)}, open(jpath, "w"), indent=2)
if mdpath:
    with open(mdpath, "w") as o:
        o.write(f"| case | CVE | fix (stable) | file → object | check | built | loaded | checked | unloaded | cold / warm build |\n")
        o.write("|---|---|---|---|---|---|---|---|---|---|\n")
        for r in rows:
            t = lambda v: "-" if v is None else "%.0f s" % v
            chk = (f"{r['answers'].get('before', '?')!s} → {r['answers'].get('after', '?')!s}" if r["observable"] else "load-only")
            chk = chk.replace("|", "\\|").replace("\n", " / ")
            o.write(f"| {r['case']} | {r['cve']} | {r['title']} ({r['stable']}) | `{r['file']}` → {r['object']} | {chk} | "
                    f"{r['built']} | {r['loaded']} | {r['checked']} | {r['unloaded']} | {t(r['cold_build_s'])} / {t(r['warm_build_s'])} |\n")
        o.write(f"\nPass rate {passed}/{len(rows)}, {obs} observable from user space.\n")
        refusals = [r for r in rows if r["built"] != "ok"]
        if refusals:
            o.write("\nRefused or failed builds:\n\n")
            for r in refusals:
                o.write(f"- {r['case']}: {r['reason']}\n")
sys.exit(0 if passed >= min_pass else 1)
PY
rc=$?
[ $KEEP = 1 ] || case $WORK in /tmp/graft-kcves.*) rm -rf "$WORK" ;; esac
exit $rc
