#!/usr/bin/env bash
# The CVE corpus: real security fixes from Debian 12 source packages, each
# turned into a live patch by `graft build --source` and applied to a running
# process that shows the bug.
#
#   tests/cves/run.sh [--json FILE] [--work DIR] [--keep] [--list] [CASE...]
#
# A case is a directory here holding case.sh (the manifest: package, version,
# fix patches from debian/patches, build command, target, how to start the
# long-running target, and a reproducer with the buggy and the fixed answer).
# Per case the runner reports each stage:
#   built     graft build --source produced a bundle (cold: fresh work dir),
#             and again warm (same work dir, built original reused)
#   run-pre   the rebuilt original matched the target byte for byte
#   bug       the running target answers the reproducer the buggy way
#   applied   graft apply patched the running process
#   fixed     the same process now answers the way the fixed version does
#   reverted  graft revert brought the buggy answer back, process alive
# A case graft refuses (the fix cannot be live-patched safely) is reported as
# refused with graft's reason; EXPECT=refused in a manifest says that is the
# right outcome, and REFUSAL a pattern graft's explanation must match. Exit status: 0 when every case ended as its manifest expects.
#
# Environment: GRAFT (the graft binary), GRAFT_CACHE (where Debian source
# packages are kept; default /var/cache/graft-tests). Needs root the first
# time (deb-src is enabled for apt) and network to fetch source packages.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
GRAFT=${GRAFT:-$ROOT/build/graft}
export GRAFT_ALLOW_UNSIGNED=${GRAFT_ALLOW_UNSIGNED:-1}  # the corpus builds its own unsigned bundles
CACHE=${GRAFT_CACHE:-/var/cache/graft-tests}
JSON="" WORK="" KEEP=0 LIST=0 CASES=()
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --json) JSON=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
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
  [ -f "$HERE/$c/case.sh" ] || { echo "run.sh: no case named $c (no $HERE/$c/case.sh)" >&2; exit 2; }
done
if [ $LIST = 1 ]; then
  for c in "${CASES[@]}"; do (. "$HERE/$c/case.sh"; printf '%-28s %-16s %s %s\n' "$c" "$CVE" "$PACKAGE" "$VERSION"); done
  exit 0
fi
[ -x "$GRAFT" ] || { echo "run.sh: graft binary $GRAFT not found; build first or set GRAFT" >&2; exit 2; }
[ -n "$WORK" ] || WORK=$(mktemp -d /tmp/graft-cves.XXXXXX)
mkdir -p "$WORK"
RESULTS=$WORK/results.tsv
: >"$RESULTS"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# run_case NAME: runs in a subshell so one manifest's variables and the
# target process stay inside it; appends one line to $RESULTS.
run_case() (
  name=$1 dir=$HERE/$1 cw=$WORK/$1
  PACKAGE="" VERSION="" CVE="" FIX="" BASE="" BUILD=make TARGET="" APPLY=--pid EXPECT=pass REFUSAL="" PROBE=""
  BUGGY="" FIXED=""
  . "$dir/case.sh"
  built=- runpre=- bug=- applied=- fixed=- reverted=- cold=- warm=- result=fail reason=""
  PID=""
  finish() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
    exec 9>&- 2>/dev/null
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$CVE" "$PACKAGE" "$VERSION" "$built" \
      "$runpre" "$bug" "$applied" "$fixed" "$reverted" "$cold" "$warm" "$result" "$EXPECT" "$(echo $reason)" >>"$RESULTS"
  }
  trap finish EXIT
  say() { echo "[$name] $*"; }
  stop() { reason=$1; say "FAILED: $reason"; exit 0; }
  rm -rf "$cw"; mkdir -p "$cw"; cd "$cw" || exit 0

  say "fetching $PACKAGE $VERSION"
  bash "$ROOT/scripts/fetch-debian-source.sh" "$PACKAGE" "$VERSION" "$CACHE/$PACKAGE" >"$cw/fetch.log" 2>&1 ||
    stop "cannot fetch source package $PACKAGE=$VERSION: $(tail -1 "$cw/fetch.log")"
  dpkg-source -x --skip-patches "$CACHE/$PACKAGE/${PACKAGE}_${VERSION#*:}.dsc" src >"$cw/extract.log" 2>&1 ||
    stop "dpkg-source -x failed: $(tail -1 "$cw/extract.log")"
  P=$cw/src/debian/patches SRC=$cw/src
  for p in $BASE; do
    patch -d src -p1 -s -f -i "$P/$p" >>"$cw/base.log" 2>&1 || stop "base patch $p does not apply"
  done
  diffs=()
  for p in $FIX; do [ -f "$P/$p" ] || stop "fix $p is not in debian/patches"; diffs+=(--diff "$P/$p"); done

  say "building the vulnerable target ($BUILD)"
  (cd src && sh -c "$BUILD") >"$cw/target-build.log" 2>&1 || stop "target build failed: $(tail -3 "$cw/target-build.log")"
  [ -f "src/$TARGET" ] || stop "the build made no $TARGET"

  say "graft build --source (cold)"
  local t0 id=$name; t0=$(now)
  "$GRAFT" build --source src "${diffs[@]}" --build "$BUILD" --target "src/$TARGET" -o fix.graft --cve "$CVE" \
    --id "$id" --work-dir "$cw/graft-work" >build.out 2>build.err
  rc=$?; cold=$(since "$t0")
  cat build.out
  if [ $rc -ne 0 ]; then
    why=$(grep -A1 '^graft:' build.err | head -2 | sed 's/^graft: //')
    if grep -q '^\[5/5' build.err; then   # objects were built and diffed: graft refused the patch
      built=ok
      case $why in *run-pre*) runpre=refused ;; esac
      result=refused; reason=$why; say "refused: $why"
      grep '^  ' build.err | head -5
      # A refusal a manifest expects must be for the reason it names.
      if [ "$EXPECT" = refused ] && [ -n "$REFUSAL" ] && ! grep -Eq "$REFUSAL" build.err; then
        result=fail reason="refused, but not for /$REFUSAL/: $why"
      fi
      exit 0
    fi
    built=fail; stop "graft build failed: $why"
  fi
  built=ok
  grep -q '^  run-pre ' build.out && runpre=ok || stop "no run-pre verification reported"
  say "graft build --source (warm)"
  t0=$(now)
  "$GRAFT" build --source src "${diffs[@]}" --build "$BUILD" --target "src/$TARGET" -o warm.graft --cve "$CVE" \
    --work-dir "$cw/graft-work" >warm.out 2>warm.err || stop "warm rebuild failed: $(grep '^graft:' warm.err)"
  warm=$(since "$t0")
  grep -q 'reusing the original built earlier' warm.err || stop "warm rebuild did not reuse the built original"
  cmp -s <(grep replaces build.out) <(grep replaces warm.out) || stop "warm build replaced other functions than cold"

  IN=$cw/in OUT=$cw/out
  mkfifo "$IN"; : >"$OUT"
  start_target
  PID=$!
  exec 9>"$IN"
  wait_ready || stop "target did not start: $(tail -3 "$OUT")"
  ask() {  # ask: sends the reproducer, prints the target's answer line
    local n; n=$(wc -l <"$OUT")
    echo "$PROBE" >&9
    for _ in $(seq 100); do
      [ "$(wc -l <"$OUT")" -gt "$n" ] && { sed -n "$((n + 1))p" "$OUT"; return 0; }
      sleep 0.1
    done
    echo "(no answer)"
  }
  a=$(ask); say "reproducer before: $a"
  [[ $a =~ $BUGGY ]] && bug=ok || { bug=fail; stop "the running target does not show the bug (got '$a', want /$BUGGY/)"; }
  if [ "$APPLY" = --all ]; then "$GRAFT" apply fix.graft --all >apply.out 2>&1; else "$GRAFT" apply fix.graft --pid "$PID" >apply.out 2>&1; fi
  rc=$?; cat apply.out
  if [ $rc -ne 0 ] || ! grep -q "$PID" apply.out; then
    why=$(grep '^graft:' apply.out | head -1 | sed 's/^graft: //')
    applied=refused; result=refused; reason=${why:-apply did not name process $PID}; say "refused: $reason"; exit 0
  fi
  applied=ok
  a=$(ask); say "reproducer patched: $a"
  [[ $a =~ $FIXED ]] && fixed=ok || { fixed=fail; stop "patched target answers '$a', want /$FIXED/"; }
  "$GRAFT" revert "$id" --pid "$PID" >revert.out 2>&1 ||
    { reverted=fail; stop "revert failed: $(cat revert.out)"; }
  a=$(ask); say "reproducer reverted: $a"
  state=$(awk '{print $3}' "/proc/$PID/stat" 2>/dev/null)
  [[ $a =~ $BUGGY ]] && [ -n "$state" ] && [ "$state" != T ] && [ "$state" != t ] && reverted=ok ||
    { reverted=fail; stop "after revert: '$a' (process state '${state:-gone}')"; }
  result=pass
)

# wait_ready: the default for manifests: the target prints "ready" first.
wait_ready() {
  for _ in $(seq 100); do grep -q '^ready' "$OUT" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

start=$(now)
for c in "${CASES[@]}"; do run_case "$c"; done

echo
printf '%-28s %-15s %-7s %-7s %-5s %-7s %-5s %-8s %6s %6s  %s\n' case cve built run-pre bug applied fixed reverted cold warm result
total=0 passed=0 refused=0 unexpected=0
while IFS=$'\t' read -r name cve pkg ver built runpre bug applied fixed reverted cold warm result expect reason; do
  total=$((total + 1))
  [ "$result" = pass ] && passed=$((passed + 1))
  [ "$result" = refused ] && refused=$((refused + 1))
  [ "$result" = "$expect" ] || unexpected=$((unexpected + 1))
  printf '%-28s %-15s %-7s %-7s %-5s %-7s %-5s %-8s %5ss %5ss  %s\n' "$name" "$cve" "$built" "$runpre" "$bug" \
    "$applied" "$fixed" "$reverted" "$cold" "$warm" "$result${reason:+: $reason}"
done <"$RESULTS"
rate=$(awk -v p=$passed -v t=$total 'BEGIN { printf "%.0f", t ? 100 * p / t : 0 }')
echo
echo "pass rate: $passed/$total ($rate%), refused: $refused, not as expected: $unexpected, wall time $(since "$start") s"

if [ -n "$JSON" ]; then
  python3 - "$RESULTS" "$JSON" <<'PY'
import json, sys
keys = ["case", "cve", "package", "version", "built", "run_pre", "bug", "applied", "fixed", "reverted",
        "cold_build_s", "warm_build_s", "result", "expect", "reason"]
rows = [dict(zip(keys, l.rstrip("\n").split("\t"))) for l in open(sys.argv[1]) if l.strip()]
for r in rows:
    for k in ("cold_build_s", "warm_build_s"):
        r[k] = None if r[k] == "-" else float(r[k])
passed = sum(r["result"] == "pass" for r in rows)
json.dump({"cases": rows, "passed": passed, "total": len(rows),
           "refused": sum(r["result"] == "refused" for r in rows)}, open(sys.argv[2], "w"), indent=2)
PY
fi
[ $KEEP = 1 ] || case $WORK in /tmp/graft-cves.*) rm -rf "$WORK" ;; esac
[ $unexpected -eq 0 ]
