# What the tiff cases share: the package, its CMake build of libtiff alone
# (no tools, tests, C++ or external codecs) and the probe program.
PACKAGE=tiff
VERSION=4.5.0-6+deb12u4
# Configured by the build command itself: graft drops CMake build directories
# from its copy of the tree, since they name the original path.
BUILD="cmake -S . -B out -DCMAKE_BUILD_TYPE=RelWithDebInfo -Dtiff-tools=OFF -Dtiff-tests=OFF -Dtiff-contrib=OFF -Dtiff-docs=OFF -Dcxx=OFF -Dzlib=OFF -Dlibdeflate=OFF -Djpeg=OFF -Dold-jpeg=OFF -Djbig=OFF -Dlerc=OFF -Dlzma=OFF -Dzstd=OFF -Dwebp=OFF >/dev/null && cmake --build out --target tiff -j2"
TARGET=out/libtiff/libtiff.so.6.0.0
APPLY=--all
start_target() {
  gcc -O2 -g -I"$SRC/libtiff" -I"$SRC/out/libtiff" -o tiff_probe "$HERE/tiff/tiff_probe.c" \
    -L"$SRC/out/libtiff" -ltiff -Wl,-rpath,"$SRC/out/libtiff"
  ./tiff_probe <"$IN" >"$OUT" 2>&1 &
}
