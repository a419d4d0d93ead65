# Sourced by the demos: `say`, then the Debian packages graft needs and a
# build of graft; sets GRAFT. Run from the top of the tree.
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
say "installing build dependencies (Debian packages)"
bash scripts/install-deps.sh
say "building graft"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target graft >/dev/null
GRAFT=$PWD/build/graft
