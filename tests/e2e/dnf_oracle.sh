# Oracle test: real dnf and graft scan read the same repository metadata
# (createrepo_c + modifyrepo_c updateinfo.xml) and the same rpm database (an
# --installroot with old packages), and must report the same advisories and
# packages, case by case, with and without a severity filter.
. "$(dirname "$0")/lib.sh"
for t in rpmbuild createrepo_c modifyrepo_c dnf rpm; do
  command -v $t >/dev/null || fail "$t is missing: run scripts/install-deps.sh"
done
cd "$W"
mkdir -p rpms repo root

# mkpkg NAME [EPOCH:]VERSION RELEASE ARCH
mkpkg() {
  local n=$1 v=$2 r=$3 a=$4 e=""
  case $v in *:*) e="Epoch: ${v%%:*}"; v=${v#*:} ;; esac
  printf 'Name: %s\n%s\nVersion: %s\nRelease: %s\nSummary: t\nLicense: MIT\nBuildArch: %s\n%%description\nt\n%%files\n' \
    "$n" "$e" "$v" "$r" "$a" >"$W/spec"
  rpmbuild -bb --quiet --define "_topdir $W/top" --define "_rpmdir $W/rpms" --target "$a" "$W/spec" >/dev/null 2>&1 ||
    fail "rpmbuild $n-$v-$r.$a"
}
# install NAME-...rpm into the installroot (rpm, no dependencies: no files anyway)
install() { rpm --root "$W/root" -i --nodeps --noscripts --ignorearch --force "$@" 2>/dev/null; }

step "packages: installed (old) and in the repository (fixed)"
rpm --root "$W/root" --initdb
mkpkg walrus 5.20 1 noarch; mkpkg walrus 5.21 1 noarch        # older installed: listed
mkpkg penguin 0.9.1 1 noarch                                   # equal: not listed
mkpkg shark 0.2 1 noarch                                       # newer installed: not listed
mkpkg stork 1.0 1 x86_64                                       # arch differs from the advisory's
mkpkg duck 1:0.5 1 noarch                                      # epoch beats a higher version
mkpkg goose 0.5 1 noarch; mkpkg goose 1:0.1 1 noarch          # advisory epoch 1: listed
mkpkg heron 1.0 1 noarch; mkpkg heron 2.0 1 noarch            # two installed: the latest counts
mkpkg ibis 1.0~rc1 1 noarch; mkpkg ibis 1.0 1 noarch          # tilde sorts before the release
mkpkg kiwi 2.0 1 x86_64; mkpkg kiwi 2.1 1 x86_64              # critical, x86_64
mkpkg loon 3.0 1 noarch; mkpkg loon 3.1 1 noarch              # bugfix advisory: not --security
mkpkg moa 1.0^git1 1 noarch; mkpkg moa 1.0 1 noarch           # caret sorts after the release: not listed
R=$W/rpms
install $R/noarch/walrus-5.20-1.noarch.rpm $R/noarch/penguin-0.9.1-1.noarch.rpm $R/noarch/shark-0.2-1.noarch.rpm \
  $R/x86_64/stork-1.0-1.x86_64.rpm $R/noarch/duck-0.5-1.noarch.rpm $R/noarch/goose-0.5-1.noarch.rpm \
  $R/noarch/ibis-1.0~rc1-1.noarch.rpm $R/x86_64/kiwi-2.0-1.x86_64.rpm $R/noarch/loon-3.0-1.noarch.rpm \
  $R/noarch/moa-1.0^git1-1.noarch.rpm
install $R/noarch/heron-1.0-1.noarch.rpm
install $R/noarch/heron-2.0-1.noarch.rpm
rpm --root "$W/root" -qa | sort >"$W/installed"
[ "$(wc -l <"$W/installed")" -eq 12 ] || fail "installroot has $(wc -l <"$W/installed") packages: $(cat "$W/installed")"
cp $R/*/*.rpm repo/
createrepo_c -q repo

pkg() { printf '<package name="%s" epoch="%s" version="%s" release="%s" arch="%s"><filename>%s.rpm</filename></package>\n' "$@" "$1"; }
adv() { # ID TYPE SEVERITY CVE packages...
  local id=$1 type=$2 sev=$3 cve=$4; shift 4
  printf '<update from="t@example.com" status="stable" type="%s" version="1"><id>%s</id><title>%s</title>' "$type" "$id" "$id"
  printf '<severity>%s</severity><issued date="2024-01-01 00:00:00"/>' "$sev"
  printf '<references><reference href="https://example.com/%s" id="%s" type="cve"/></references>' "$cve" "$cve"
  printf '<pkglist><collection short="t"><name>t</name>%s</collection></pkglist></update>\n' "$*"
}
{
  echo '<?xml version="1.0" encoding="UTF-8"?><updates>'
  adv T-0001 security Important CVE-2024-0001 "$(pkg walrus 0 5.21 1 noarch)"
  adv T-0002 security Moderate CVE-2024-0002 "$(pkg penguin 0 0.9.1 1 noarch)"
  adv T-0003 security Low CVE-2024-0003 "$(pkg shark 0 0.1 1 noarch)"
  adv T-0004 security Important CVE-2024-0004 "$(pkg stork 0 2.0 1 noarch)"
  adv T-0005 security Important CVE-2024-0005 "$(pkg duck 0 0.9 1 noarch)"
  adv T-0006 security Moderate CVE-2024-0006 "$(pkg goose 1 0.1 1 noarch)"
  adv T-0007 security Important CVE-2024-0007 "$(pkg heron 0 1.5 1 noarch)"
  adv T-0008 security Low CVE-2024-0008 "$(pkg ibis 0 1.0 1 noarch)"
  adv T-0009 security Critical CVE-2024-0009 "$(pkg kiwi 0 2.1 1 x86_64)"
  adv T-0010 bugfix Low CVE-2024-0010 "$(pkg loon 0 3.1 1 noarch)"
  adv T-0011 security Critical CVE-2024-0011 "$(pkg crow 0 0.8 1 noarch)"
  adv T-0012 security Moderate CVE-2024-0012 "$(pkg moa 0 1.0 1 noarch)"
  adv T-0013 security Important CVE-2024-0013 "$(pkg walrus 0 5.19 1 noarch)$(pkg kiwi 0 2.1 1 x86_64)"
  echo '</updates>'
} >updateinfo.xml
modifyrepo_c --mdtype=updateinfo updateinfo.xml repo/repodata >/dev/null
"$GRAFT" advisories --db "$W/a.db" import -q updateinfo.xml

dnf_list() {
  dnf --installroot="$W/root" --releasever=1 --setopt=reposdir=/dev/null --setopt=cachedir="$W/cache" \
    --repofrompath=local,"file://$W/repo" --repo=local -q updateinfo list "$@" 2>/dev/null | awk '{print $1, $3}' | sort
}
graft_list() {
  "$GRAFT" scan --db "$W/a.db" --rpm-root "$W/root" --advisories "$@" | awk '{print $1, $3}' | sort
}
compare() { # LABEL DNF-ARGS -- GRAFT-ARGS
  local label=$1; shift
  local dargs=() gargs=()
  while [ "$1" != -- ]; do dargs+=("$1"); shift; done; shift
  gargs=("$@")
  dnf_list "${dargs[@]}" >"$W/dnf.$label"
  graft_list "${gargs[@]}" >"$W/graft.$label"
  [ -s "$W/dnf.$label" ] || fail "$label: dnf listed nothing (setup broken?)"
  diff "$W/dnf.$label" "$W/graft.$label" >"$W/diff.$label" || fail "$label: dnf and graft differ:
$(cat "$W/diff.$label")"
  echo "$label: $(wc -l <"$W/dnf.$label") advisory/package lines agree: $(tr '\n' ';' <"$W/dnf.$label")"
}
step "compare, case by case"
compare security --security -- 
compare critical --sec-severity Critical -- --severity critical
compare important --sec-severity Important -- --severity important
compare all-types -- --all-types

step "graft scan reports each CVE"
"$GRAFT" scan --db "$W/a.db" --rpm-root "$W/root" --all --json >"$W/scan.json"
python3 - "$W/scan.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
st = {c["cve"]: c["status"] for c in r["cves"]}
want = {"CVE-2024-0001": "missing", "CVE-2024-0002": "fixed", "CVE-2024-0003": "fixed",
        "CVE-2024-0005": "fixed", "CVE-2024-0006": "missing", "CVE-2024-0007": "fixed",
        "CVE-2024-0008": "missing", "CVE-2024-0009": "missing", "CVE-2024-0012": "fixed",
        "CVE-2024-0013": "missing"}
bad = {k: (st.get(k), v) for k, v in want.items() if st.get(k) != v}
assert not bad, f"unexpected statuses (got, want): {bad}"
assert "CVE-2024-0010" not in st, "a bugfix advisory was scanned as security"
print(f"{len(want)} CVE statuses as expected")
PY
echo PASS
