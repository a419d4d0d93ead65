# What the expat cases share: the package, its CMake build and the probe.
PACKAGE=expat
VERSION=2.5.0-1+deb12u2
# Configured by the build command itself: graft drops CMake build directories
# from its copy of the tree, since they name the original path.
BUILD="cmake -S expat -B out -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEXPAT_BUILD_TOOLS=OFF -DEXPAT_BUILD_EXAMPLES=OFF -DEXPAT_BUILD_TESTS=OFF -DEXPAT_BUILD_DOCS=OFF -DEXPAT_BUILD_PKGCONFIG=OFF >/dev/null && cmake --build out"
TARGET=out/libexpat.so.1.8.10
APPLY=--all
start_target() {
  gcc -O2 -g -I"$SRC/expat/lib" -o expat_probe "$HERE/expat/expat_probe.c" -L"$SRC/out" -lexpat -Wl,-rpath,"$SRC/out"
  ./expat_probe <"$IN" >"$OUT" 2>&1 &
}
