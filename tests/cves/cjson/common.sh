# What the cJSON cases share: the package, its build and the probe program.
PACKAGE=cjson
VERSION=1.7.15-1+deb12u4
# Upstream Makefile (libcjson.so, libcjson_utils.so); its `ln -s` of the
# soname links fails when they exist, so a rebuild drops them first.
BUILD="rm -f libcjson.so.1 libcjson.so libcjson_utils.so.1 libcjson_utils.so; make shared CFLAGS=\"-O2 -g\""
APPLY=--all
start_target() {
  gcc -O2 -g -I"$SRC" -o cjson_probe "$HERE/cjson/cjson_probe.c" -L"$SRC" -lcjson -lcjson_utils -Wl,-rpath,"$SRC"
  ./cjson_probe <"$IN" >"$OUT" 2>&1 &
}
