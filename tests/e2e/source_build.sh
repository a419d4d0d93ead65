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
  cat >"$1/price.c" <<'C'
__attribute__((noinline)) int price(int qty) {
  return qty * 7;
}
C
  cat >"$1/fix.patch" <<'P'
--- a/price.c
+++ b/price.c
@@ -1,3 +1,4 @@
 __attribute__((noinline)) int price(int qty) {
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

step "CMake tree"
mk_tree "$W/cm"
printf 'cmake_minimum_required(VERSION 3.13)\nproject(shop C)\nset(CMAKE_C_FLAGS "-O2 -g")\nadd_executable(shop main.c price.c)\n' >"$W/cm/CMakeLists.txt"
(cd "$W/cm" && cmake -S . -B out >/dev/null && cmake --build out >/dev/null)
"$GRAFT" build -q --source "$W/cm" --diff "$W/cm/fix.patch" --build 'cmake -S . -B out2 >/dev/null && cmake --build out2' \
  --target "$W/cm/out/shop" -o "$W/cm.graft" | tee "$W/c.txt"
grep -q "replaces  price" "$W/c.txt" || fail "price not replaced in the CMake tree"

step "a fix that does not apply is a clear error"
printf -- '--- a/price.c\n+++ b/price.c\n@@ -1,2 +1,2 @@\n-nothing like this\n+at all\n' >"$W/bad.patch"
if "$GRAFT" build -q --source "$W/make" --diff "$W/bad.patch" --target "$W/make/shop" -o "$W/x.graft" 2>"$W/err"; then fail "accepted a diff that does not apply"; fi
grep -q "does not apply" "$W/err" || fail "unclear error: $(cat "$W/err")"
echo PASS
