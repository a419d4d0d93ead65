#!/usr/bin/env bash
# Soak on a real server: nginx built unstripped from Debian 12's source serves
# wrk's load while graft applies and reverts a header-filter fix CYCLES times.
# No request may fail; every few cycles a client must see the fix's header when
# it is applied and not when it is reverted. wrk runs in phases (before, during,
# after, and an unpatched baseline as long as "during") for latency figures.
# Usage: bench/soak_nginx.sh [CYCLES] (default 1000); root; needs deb-src, wrk, curl.
#   GRAFT=path (default build/graft)  SOAK_CACHE=dir (default /var/cache/graft-soak)
#   SOAK_QUICK=1: 5 s windows, no baseline window (CI-sized)  WORKERS=2  WRK_THREADS=2
#   WRK_CONNS=32  PHASE_SECS=60  CHECK_EVERY=50  BASELINE=1  BASELINE_SECS (default: as long
#   as the cycles, at most 300)  KEEP_W=1 (keep the run directory)
set -euo pipefail
cd "$(dirname "$0")/.."
CYCLES=${1:-1000}
export GRAFT_ALLOW_UNSIGNED=${GRAFT_ALLOW_UNSIGNED:-1}  # bundles built here are unsigned
GRAFT=$(realpath "${GRAFT:-build/graft}")
CACHE=${SOAK_CACHE:-/var/cache/graft-soak}
WORKERS=${WORKERS:-2}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNS=${WRK_CONNS:-32}
export WRK_THREADS WRK_CONNS
if [ -n "${SOAK_QUICK:-}" ]; then
  PHASE_SECS=${PHASE_SECS:-5} CHECK_EVERY=${CHECK_EVERY:-5} BASELINE=${BASELINE:-0}
else
  PHASE_SECS=${PHASE_SECS:-60} CHECK_EVERY=${CHECK_EVERY:-50} BASELINE=${BASELINE:-1}
fi
PY=/usr/bin/python3

W=$(mktemp -d /tmp/graft-soak.XXXXXX)
chmod 755 "$W"   # nginx's workers run as nobody and serve files from here
PIDS=() NGX_PIDS=()
cleanup() {
  # SIGTERM first: nginx's master takes its workers down with it; SIGKILL would orphan them.
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${PIDS[@]}" "${NGX_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP_W:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $(date +%T) $*" >&2; }
for tool in wrk curl dpkg-source "$GRAFT"; do
  command -v "$tool" >/dev/null || fail "$tool not found (apt-get install wrk curl dpkg-dev; GRAFT=path/to/graft)"
done

# --- 1. Debian's nginx source, built once into the cache -------------------
# The newest source version first; a mirror may lack the newest (security
# pool) one, so fall back to the next listed.
mkdir -p "$CACHE"
TREE=$(find "$CACHE" -maxdepth 3 -path "$CACHE/nginx-*/debian/changelog" -printf '%h\n' 2>/dev/null | head -1)
TREE=${TREE%/debian}
if [ -z "$TREE" ]; then
  versions=$(apt-cache showsrc nginx 2>/dev/null | awk '/^Version:/ {print $2}' | sort -urV)
  [ -n "$versions" ] || fail "apt-cache showsrc nginx: nothing; add a deb-src line and run apt-get update"
  for v in $versions; do
    step "apt-get source nginx=$v into $CACHE"
    if (cd "$CACHE" && apt-get source -q "nginx=$v" >"$CACHE/apt-source.log" 2>&1); then break; fi
    echo "   nginx=$v not fetched: $(grep -m1 '^E:' "$CACHE/apt-source.log" || tail -1 "$CACHE/apt-source.log")" >&2
  done
  TREE=$(find "$CACHE" -maxdepth 3 -path "$CACHE/nginx-*/debian/changelog" -printf '%h\n' | head -1)
  TREE=${TREE%/debian}
  [ -n "$TREE" ] || fail "no nginx source version could be fetched; see $CACHE/apt-source.log"
fi
NGINX_DEB_VERSION=$(dpkg-parsechangelog -l "$TREE/debian/changelog" -S Version)
NGINX=$TREE/objs/nginx
# Only the static-file path of the HTTP core: no PCRE, zlib or OpenSSL needed.
CONFIGURE=(--with-cc-opt='-O2 -g' --without-pcre --without-http-cache
  --without-http_rewrite_module --without-http_gzip_module --without-http_charset_module
  --without-http_ssi_module --without-http_userid_module --without-http_access_module
  --without-http_auth_basic_module --without-http_mirror_module --without-http_autoindex_module
  --without-http_geo_module --without-http_map_module --without-http_split_clients_module
  --without-http_referer_module --without-http_proxy_module --without-http_fastcgi_module
  --without-http_uwsgi_module --without-http_scgi_module --without-http_grpc_module
  --without-http_memcached_module --without-http_limit_conn_module --without-http_limit_req_module
  --without-http_empty_gif_module --without-http_browser_module --without-http_upstream_hash_module
  --without-http_upstream_ip_hash_module --without-http_upstream_least_conn_module
  --without-http_upstream_random_module --without-http_upstream_keepalive_module
  --without-http_upstream_zone_module)
if [ ! -x "$NGINX" ]; then
  step "building nginx $NGINX_DEB_VERSION in $TREE"
  t0=$SECONDS
  (cd "$TREE" && ./configure "${CONFIGURE[@]}" && make -j"$(nproc)") >"$CACHE/nginx-build.log" 2>&1 ||
    fail "nginx build failed; see $CACHE/nginx-build.log"
  echo "   nginx built in $((SECONDS - t0)) s" >&2
fi
file "$NGINX" | grep -q 'not stripped' || fail "$NGINX is stripped"

# --- 2. The fix: every response says X-Content-Type-Options: nosniff ---------
cat >"$W/nosniff.patch" <<'PATCH'
--- a/src/http/ngx_http_header_filter_module.c
+++ b/src/http/ngx_http_header_filter_module.c
@@ -299,6 +299,8 @@
         len += sizeof("Date: Mon, 28 Sep 1970 06:00:00 GMT" CRLF) - 1;
     }
 
+    len += sizeof("X-Content-Type-Options: nosniff" CRLF) - 1;
+
     if (r->headers_out.content_type.len) {
         len += sizeof("Content-Type: ") - 1
                + r->headers_out.content_type.len + 2;
@@ -477,6 +479,9 @@
         *b->last++ = CR; *b->last++ = LF;
     }
 
+    b->last = ngx_cpymem(b->last, "X-Content-Type-Options: nosniff" CRLF,
+                         sizeof("X-Content-Type-Options: nosniff" CRLF) - 1);
+
     if (r->headers_out.content_type.len) {
         b->last = ngx_cpymem(b->last, "Content-Type: ",
                              sizeof("Content-Type: ") - 1);
PATCH
step "graft build --source (work dir $CACHE/graft-work: warm after the first run)"
t0=$(date +%s%N)
"$GRAFT" build --source "$TREE" --diff "$W/nosniff.patch" --build "make -j$(nproc)" --target "$NGINX" \
  --work-dir "$CACHE/graft-work" -o "$W/nosniff.graft" \
  --description "nginx: X-Content-Type-Options: nosniff on every response" 2>"$W/build.progress" | tee "$W/build.txt" >&2 ||
  fail "graft build failed: $(cat "$W/build.progress")"
BUILD_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
grep -q "replaces  ngx_http_header_filter" "$W/build.txt" || fail "the bundle does not replace ngx_http_header_filter"

# --- 3. nginx on a loopback port, wrk, the cycles ----------------------------
PORT=$((20000 + RANDOM % 20000))
URL=http://127.0.0.1:$PORT/
mkdir -p "$W/www/logs" "$W/www/html"
printf 'soak\n' >"$W/www/html/index.html"
cat >"$W/www/nginx.conf" <<EOF
worker_processes $WORKERS;
daemon off;
error_log logs/error.log;
pid logs/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  server { listen 127.0.0.1:$PORT; root html; }
}
EOF
"$NGINX" -p "$W/www" -c nginx.conf >"$W/www/logs/stderr" 2>&1 </dev/null &
MASTER=$!
PIDS+=("$MASTER")
status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL" || true; }
for _ in $(seq 100); do [ "$(status)" = 200 ] && break; sleep 0.05; done
[ "$(status)" = 200 ] || fail "nginx does not answer 200 on $URL: $(tail -3 "$W/www/logs/error.log")"
sleep 0.2
mapfile -t NGX_PIDS < <(echo "$MASTER"; pgrep -P "$MASTER")
[ "${#NGX_PIDS[@]}" = $((WORKERS + 1)) ] || fail "expected a master and $WORKERS workers, found ${NGX_PIDS[*]}"
PID_ARGS=()
for p in "${NGX_PIDS[@]}"; do PID_ARGS+=(--pid "$p"); done

# header_seen: how many of 4 fresh connections got the fix's header (each may
# land on another worker); a response other than 200 counts as a failure.
header_seen() {
  local n=0 i h
  for i in 1 2 3 4; do
    h=$(curl -sI --max-time 5 "$URL" || true)
    grep -q '^HTTP/1.1 200' <<<"$h" || { echo "bad response: ${h:-none}"; return; }
    grep -qi '^X-Content-Type-Options: nosniff' <<<"$h" && n=$((n + 1))
  done
  echo $n
}
healthy() {
  local p st
  for p in "${NGX_PIDS[@]}"; do
    kill -0 "$p" 2>/dev/null || fail "nginx process $p died (cycle $1): $(tail -5 "$W/www/logs/error.log")"
    for st in /proc/"$p"/task/*/stat; do
      case $(awk '{print $3}' "$st" 2>/dev/null || echo R) in
        T|t) fail "nginx process $p left stopped after cycle $1";;
      esac
    done
  done
}
# wrk_phase NAME [SECONDS]: wrk in the background until SECONDS, or until
# wrk_stop (SIGINT makes wrk stop and print its summary).
wrk_phase() {
  wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${2:-86400}s" --timeout 5s --latency "$URL" >"$W/wrk.$1" 2>&1 &
  WRK=$!
  PIDS+=("$WRK")
}
wrk_stop() { kill -INT "$WRK"; wait "$WRK" || true; }

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
[ "$(header_seen)" = 0 ] || fail "the header is there before any patch"
step "phase before: wrk ${PHASE_SECS}s, no patching"
wrk_phase before "$PHASE_SECS"; wait "$WRK" || true

step "phase during: $CYCLES apply/revert cycles on pids ${NGX_PIDS[*]}"
: >"$W/cycles.tsv"
FAILED=""
wrk_phase during
sleep 1
t_during=$(date +%s%N)
for i in $(seq 1 "$CYCLES"); do
  t0=$(date +%s%N)
  rc=0; "$GRAFT" apply "$W/nosniff.graft" "${PID_ARGS[@]}" --timeout 30 >"$W/apply.out" 2>&1 || rc=$?
  [ $rc = 0 ] || { FAILED="cycle $i: graft apply exited $rc: $(cat "$W/apply.out")"; break; }
  t1=$(date +%s%N)
  sed -n 's/.*threads paused \([0-9.]*\) ms.*/apply \1/p' "$W/apply.out" >>"$W/paused.txt"
  grep -o '[0-9]* attempt' "$W/apply.out" | awk '{print "attempts", $1}' >>"$W/paused.txt"
  if [ $((i % CHECK_EVERY)) = 0 ] || [ "$i" = 1 ]; then
    seen=$(header_seen)
    [ "$seen" = 4 ] || { FAILED="cycle $i: fix applied; responses with the header, of 4: $seen"; break; }
    echo "check $i applied $seen/4" >>"$W/checks.txt"
  fi
  t2=$(date +%s%N)
  rc=0; "$GRAFT" revert nosniff "${PID_ARGS[@]}" --timeout 30 >"$W/revert.out" 2>&1 || rc=$?
  [ $rc = 0 ] || { FAILED="cycle $i: graft revert exited $rc: $(cat "$W/revert.out")"; break; }
  t3=$(date +%s%N)
  sed -n 's/.*threads paused \([0-9.]*\) ms.*/revert \1/p' "$W/revert.out" >>"$W/paused.txt"
  if [ $((i % CHECK_EVERY)) = 0 ] || [ "$i" = 1 ]; then
    seen=$(header_seen)
    [ "$seen" = 0 ] || { FAILED="cycle $i: fix reverted; responses with the header, of 4: $seen"; break; }
    echo "check $i reverted $seen/4" >>"$W/checks.txt"
  fi
  printf '%s\t%s\t%s\n' "$i" $(( (t1 - t0) / 1000 )) $(( (t3 - t2) / 1000 )) >>"$W/cycles.tsv"
  healthy "$i"
  [ $((i % 100)) != 0 ] || echo "   $i cycles" >&2
done
DURING_SECS=$(( ($(date +%s%N) - t_during) / 1000000000 + 1 ))
wrk_stop
[ -z "$FAILED" ] || echo "STOPPED: $FAILED" >&2
healthy end

step "phase after: wrk ${PHASE_SECS}s, no patching"
wrk_phase after "$PHASE_SECS"; wait "$WRK" || true
if [ "$BASELINE" = 1 ]; then
  BASELINE_SECS=${BASELINE_SECS:-$((DURING_SECS < 300 ? DURING_SECS : 300))}
  step "phase baseline: wrk ${BASELINE_SECS}s, no patching"
  wrk_phase baseline "$BASELINE_SECS"; wait "$WRK" || true
fi
healthy end

# --- 4. Report ---------------------------------------------------------------
echo "graft: $("$GRAFT" --version); load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)"
alerts=$(grep -cE '\[(alert|emerg|crit)\]|exited on signal' "$W/www/logs/error.log" || true)
$PY - "$W" "$CYCLES" "$NGINX_DEB_VERSION" "$BUILD_MS" "$alerts" "$FAILED" "${#NGX_PIDS[@]}" <<'PY'
import glob, os, re, statistics, sys
w, cycles, version, build_ms, alerts, failed, nprocs = sys.argv[1:8]
UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}
def ms(v):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", v)
    return float(m.group(1)) * UNIT[m.group(2)]
def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")
print(f"\nnginx {version} (unstripped, {int(nprocs) - 1} workers + master), wrk "
      f"{os.environ.get('WRK_THREADS', '2')} threads {os.environ.get('WRK_CONNS', '32')} connections; "
      f"graft build {int(build_ms) / 1000:.1f} s")
print("| phase | seconds | requests | req/s | non-2xx | socket errors | p50 ms | p90 ms | p99 ms | max ms |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
bad = 0
for phase in ("before", "during", "after", "baseline"):
    f = f"{w}/wrk.{phase}"
    if not os.path.exists(f):
        continue
    t = open(f).read()
    m = re.search(r"(\d+) requests in ([0-9.]+)(\w+)", t)
    if not m:
        print(f"| {phase} | wrk printed no summary: {t.strip()[-200:]!r} |"); bad += 1; continue
    reqs, secs = int(m.group(1)), ms(m.group(2) + m.group(3)) / 1000
    non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", t) or [0, 0])[1])
    s = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
    sock = sum(map(int, s.groups())) if s else 0
    bad += non2xx + sock
    lat = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", t, re.M))
    mx = re.search(r"^\s+Latency\s+\S+\s+\S+\s+(\S+)", t, re.M).group(1)
    print(f"| {phase} | {secs:.1f} | {reqs:,} | {reqs / secs:,.0f} | {non2xx} | {sock} | "
          f"{ms(lat['50']):.2f} | {ms(lat['90']):.2f} | {ms(lat['99']):.2f} | {ms(mx):.2f} |")
rows = [l.split("\t") for l in open(f"{w}/cycles.tsv")]
ap = [int(r[1]) / 1000 for r in rows]
rv = [int(r[2]) / 1000 for r in rows]
paused = {"apply": [], "revert": []}
attempts = []
if os.path.exists(f"{w}/paused.txt"):
    for l in open(f"{w}/paused.txt"):
        k, v = l.split()
        (attempts if k == "attempts" else paused[k]).append(float(v))
print(f"\ncycles completed: {len(rows)} of {cycles}; checks passed: "
      f"{sum(1 for _ in open(f'{w}/checks.txt')) if os.path.exists(f'{w}/checks.txt') else 0}")
print("| command (all nginx processes) | median ms | p99 ms | max ms |")
print("|---|---:|---:|---:|")
for name, xs in (("graft apply", ap), ("graft revert", rv)):
    if xs: print(f"| {name} wall | {pct(xs, 50):.1f} | {pct(xs, 99):.1f} | {max(xs):.1f} |")
for name in ("apply", "revert"):
    xs = paused[name]
    if xs: print(f"| {name}: threads paused, per process | {pct(xs, 50):.3f} | {pct(xs, 99):.3f} | {max(xs):.3f} |")
if attempts:
    print(f"\napply attempts per process: max {int(max(attempts))}, "
          f"{sum(1 for a in attempts if a > 1)} of {len(attempts)} needed more than one")
print(f"nginx error.log alert/crit/emerg lines: {alerts}")
if failed:
    print(f"FAILED: {failed}")
sys.exit(1 if failed or bad or int(alerts) or len(rows) != int(cycles) else 0)
PY
