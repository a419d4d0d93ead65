# What the libxml2 cases share: the package, its CMake build of the library
# alone (no programs, tests, Python or compression libraries) and the probe.
PACKAGE=libxml2
VERSION=2.9.14+dfsg-1.3~deb12u6
# Configured by the build command itself: graft drops CMake build directories
# from its copy of the tree, since they name the original path.
BUILD="cmake -S . -B out -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLIBXML2_WITH_PYTHON=OFF -DLIBXML2_WITH_PROGRAMS=OFF -DLIBXML2_WITH_TESTS=OFF -DLIBXML2_WITH_LZMA=OFF -DLIBXML2_WITH_ZLIB=OFF -DLIBXML2_WITH_ICU=OFF -DLIBXML2_WITH_FTP=OFF -DLIBXML2_WITH_HTTP=OFF -DLIBXML2_WITH_DOCB=OFF >/dev/null && cmake --build out --target LibXml2 -j2"
TARGET=out/libxml2.so.2.9.14
APPLY=--all
start_target() {
  gcc -O2 -g -I"$SRC/include" -I"$SRC/out" -o xml_probe "$HERE/libxml2/xml_probe.c" \
    -L"$SRC/out" -l:libxml2.so.2.9.14 -Wl,-rpath,"$SRC/out"
  ./xml_probe <"$IN" >"$OUT" 2>&1 &
}
