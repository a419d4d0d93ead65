# graft build --source on a plain-Makefile tree and on a CMake tree: the copy
# is built through the compiler wrapper, the fix rebuilds only what it
# touches, the user's tree is left untouched, and the bundle applies to the
# program built from that tree.
. "$(dirname "$0")/lib.sh"
mk_tree() {  # mk_tree DIR: a two-file program; price() is what the fix changes
  mkdir -p "$1"
  cat >"$1/main.c" <<'C'
#include <stdio.h>
#include <unistd.h>
int price(int qty);
int main(void) { printf("ready\n"); for (;;) { printf("price %d\n", price(-3)); fflush(stdout); usleep(20000); } }
C
  # __FILE__ is the absolute path where CMake compiles: graft's copy must
  # still produce the user's tree's path or run-pre sees another string.
  cat >"$1/price.c" <<'C'
#include <stdio.h>
__attribute__((noinline)) int price(int qty) {
  if (qty > 1000000) puts(__FILE__);
  return qty * 7;
}
C
  cat >"$1/fix.patch" <<'P'
--- a/price.c
+++ b/price.c
@@ -1,5 +1,6 @@
 #include <stdio.h>
 __attribute__((noinline)) int price(int qty) {
   if (qty > 1000000) puts(__FILE__);
+  if (qty < 0) return 0;
   return qty * 7;
 }
P
}

step "plain Makefile tree"
mk_tree "$W/make"
printf 'CFLAGS=-O2 -g\nshop: main.o price.o\n\t$(CC) -o $@ $^\n' >"$W/make/Makefile"
(cd "$W/make" && make -s)   # the running program, built the normal way
cp -r "$W/make" "$W/make.pristine"
"$GRAFT" build --source "$W/make" --diff "$W/make/fix.patch" --target "$W/make/shop" -o "$W/make.graft" 2>"$W/progress" | tee "$W/b.txt"
grep -q "replaces  price" "$W/b.txt" || fail "price not replaced"
grep -q "main" "$W/b.txt" && fail "main.c was diffed although the fix does not touch it"
grep -q '\[4/5' "$W/progress" || fail "no progress lines"
diff -r "$W/make" "$W/make.pristine" >/dev/null || fail "the user's tree was modified"
(cd "$W/make" && ./shop >"$W/out" 2>&1 &) ; sleep 0.3
PID=$(pgrep -n -f "$W/make/shop" || true); [ -n "$PID" ] || PID=$(pgrep -n shop); PIDS+=("$PID")
wait_for "$W/out" '^price -21$'
mark "$W/out"; "$GRAFT" apply "$W/make.graft" --pid "$PID"; expect "$W/out" '^price 0$'

step "warm rebuild: a kept work directory reuses the built original"
"$GRAFT" build --source "$W/make" --diff "$W/make/fix.patch" --target "$W/make/shop" -o "$W/w1.graft" \
  --work-dir "$W/wd" 2>"$W/p1" >/dev/null
grep -q "building the original tree" "$W/p1" || fail "first run with a new work directory was not cold: $(cat "$W/p1")"
"$GRAFT" build --source "$W/make" --diff "$W/make/fix.patch" --target "$W/make/shop" -o "$W/w2.graft" \
  --work-dir "$W/wd" 2>"$W/p2" | tee "$W/w2.txt"
grep -q "reusing the original built earlier" "$W/p2" || fail "second run did not reuse the built original: $(cat "$W/p2")"
grep -q "building the original tree" "$W/p2" && fail "second run built the original again"
grep -q "replaces  price" "$W/w2.txt" || fail "warm build did not replace price"
[ "$(grep -c '"source"' "$W/wd/compilations.jsonl")" = 1 ] || fail "warm rebuild compiled more than price.c: $(cat "$W/wd/compilations.jsonl")"
touch "$W/make/main.c"   # the tree changed: the kept original no longer stands for it
"$GRAFT" build --source "$W/make" --diff "$W/make/fix.patch" --target "$W/make/shop" -o "$W/w3.graft" \
  --work-dir "$W/wd" 2>"$W/p3" >/dev/null
grep -q "building the original tree" "$W/p3" || fail "a changed tree was not rebuilt cold"

step "one work directory, two binaries of the tree: each run diffs what went into its target"
mk_tree "$W/two"
printf '#include <stdio.h>\n__attribute__((noinline)) int level(void) { return 1; }\nint main(void) { return printf("level %%d\\n", level()) < 0; }\n' >"$W/two/tool.c"
printf 'CFLAGS=-O2 -g\nall: shop tool\nshop: main.o price.o\n\t$(CC) -o $@ $^\ntool: tool.o\n\t$(CC) -o $@ $^\n' >"$W/two/Makefile"
(cd "$W/two" && make -s)
cp "$W/two/tool.c" "$W/two/tool.fixed.c"; sed -i 's/return 1;/return 2;/' "$W/two/tool.fixed.c"
(cd "$W/two" && diff -u tool.c tool.fixed.c | sed 's|^--- tool.c.*|--- a/tool.c|; s|^+++ tool.fixed.c.*|+++ b/tool.c|' >tool.patch) || true
"$GRAFT" build --source "$W/two" --diff "$W/two/fix.patch" --target "$W/two/shop" -o "$W/t1.graft" \
  --work-dir "$W/wd2" 2>/dev/null | grep -q "replaces  price" || fail "price not replaced in shop"
"$GRAFT" build --source "$W/two" --diff "$W/two/tool.patch" --target "$W/two/tool" -o "$W/t2.graft" \
  --work-dir "$W/wd2" 2>"$W/p5" >"$W/t2.txt" || fail "tool's fix did not build: $(tail -1 "$W/p5")"
grep -q "reusing the original built earlier" "$W/p5" || fail "the second target did not reuse the work directory"
grep -q "1 object(s) of the build went into tool" "$W/p5" || fail "the objects of tool were not found: $(cat "$W/p5")"
grep -q "replaces  level" "$W/t2.txt" || fail "level not replaced in tool (the first run's target decided what was diffed)"

step "CMake tree"
mk_tree "$W/cm"
printf 'cmake_minimum_required(VERSION 3.13)\nproject(shop C)\nset(CMAKE_C_FLAGS "-O2 -g")\nadd_executable(shop main.c price.c)\n' >"$W/cm/CMakeLists.txt"
(cd "$W/cm" && cmake -S . -B out >/dev/null && cmake --build out >/dev/null)
"$GRAFT" build -q --source "$W/cm" --diff "$W/cm/fix.patch" --build 'cmake -S . -B out2 >/dev/null && cmake --build out2' \
  --target "$W/cm/out/shop" -o "$W/cm.graft" | tee "$W/c.txt"
grep -q "replaces  price" "$W/c.txt" || fail "price not replaced in the CMake tree"
# The same build command the user ran: its build directory in the tree points
# at the user's tree and must not be reused in the copy.
(cd "$W/cm" && cmake -S . -B out2 >/dev/null && cmake --build out2 >/dev/null)
"$GRAFT" build --source "$W/cm" --diff "$W/cm/fix.patch" --build 'cmake -S . -B out2 >/dev/null && cmake --build out2' \
  --target "$W/cm/out2/shop" -o "$W/cm2.graft" 2>"$W/p4" | tee "$W/c2.txt"
grep -q "dropped CMake build directory out2" "$W/p4" || fail "the copied CMake build directory was kept: $(cat "$W/p4")"
grep -q "replaces  price" "$W/c2.txt" || fail "price not replaced with an in-tree CMake build directory"
grep -q "qty < 0" "$W/cm/price.c" && fail "the user's tree was patched"

step "--json summary; objects without -g are named in a note"
"$GRAFT" build -q --json --source "$W/make" --diff "$W/make/fix.patch" --target "$W/make/shop" -o "$W/j.graft" >"$W/j.json"
python3 - "$W/j.json" <<'PY' || fail "build --json: $(cat "$W/j.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["replaced"] == ["price"] and j["unwind_tables"] is True and j["notes"] == [], j
assert j["output"].endswith("j.graft") and len(j["target_build_id"]) == 40, j
PY
(cd "$W/make" && gcc -O2 -ffunction-sections -fdata-sections -c price.c -o "$W/nog.orig.o" &&
  patch -s -o "$W/price.fixed.c" price.c fix.patch >/dev/null && gcc -O2 -ffunction-sections -fdata-sections -c "$W/price.fixed.c" -o "$W/nog.fixed.o")
"$GRAFT" build --orig "$W/nog.orig.o" --patched "$W/nog.fixed.o" --target "$W/make/shop" -o "$W/nog.graft" >"$W/nog.txt" 2>&1 ||
  fail "build from objects without -g: $(cat "$W/nog.txt")"
grep -q "note      nog.orig.o has no debug information (-g): struct layouts were not compared" "$W/nog.txt" ||
  fail "no note about missing debug information: $(cat "$W/nog.txt")"

step "a fix that does not apply is a clear error"
printf -- '--- a/price.c\n+++ b/price.c\n@@ -1,2 +1,2 @@\n-nothing like this\n+at all\n' >"$W/bad.patch"
if "$GRAFT" build -q --source "$W/make" --diff "$W/bad.patch" --target "$W/make/shop" -o "$W/x.graft" 2>"$W/err"; then fail "accepted a diff that does not apply"; fi
grep -q "does not apply" "$W/err" || fail "unclear error: $(cat "$W/err")"
echo PASS
