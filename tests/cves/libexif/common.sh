# What the libexif cases share: the package, the build of its library and the
# probe program. The Debian tree ships configure.ac but no configure; rather
# than needing autotools, the library is built by a Makefile of ours (the
# sources, config.h and _stdint.h as configure writes them, libexif.sym).
PACKAGE=libexif
VERSION=0.6.24-1+deb12u1
BUILD="make -j2 -f $HERE/libexif/Makefile"
TARGET=libexif.so.12
APPLY=--all
start_target() {
  gcc -O2 -g -I"$SRC" -o exif_probe "$HERE/libexif/exif_probe.c" -L"$SRC" -l:libexif.so.12 -Wl,-rpath,"$SRC"
  ./exif_probe <"$IN" >"$OUT" 2>&1 &
}
