# graft cvss - (batch mode) on every vector of the Red Hat cvss project's
# v3.1 base-metric file: one VECTOR<TAB>SCORE line per input line, each score
# exactly the expected base score; a malformed line is reported by number.
. "$(dirname "$0")/lib.sh"
DATA=$(dirname "$PROGRAMS")/../../shared/testdata/cvss/vectors_simple31
sed 's/ - (.*//' "$DATA" >"$W/in"
awk -F'[(,]' '{print $2}' "$DATA" >"$W/want"
"$GRAFT" cvss - <"$W/in" >"$W/out"
[ "$(wc -l <"$W/out")" -eq "$(wc -l <"$W/in")" ] || fail "not one output line per vector"
cut -f2 "$W/out" | diff - "$W/want" >/dev/null || fail "scores differ: $(cut -f2 "$W/out" | diff - "$W/want" | head -3)"
paste -d'\t' "$W/in" "$W/want" | cmp -s - "$W/out" || fail "output is not VECTOR<TAB>SCORE"
printf 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\nCVSS:3.1/AV:N/AC:Z/PR:N/UI:N/S:U/C:H/I:H/A:H\n' >"$W/bad"
if "$GRAFT" cvss - <"$W/bad" >"$W/out2" 2>"$W/err"; then fail "a malformed vector did not fail the run"; fi
grep -q "line 2: bad value 'Z' for metric AC" "$W/err" || fail "unclear error: $(cat "$W/err")"
[ "$(wc -l <"$W/out2")" -eq 1 ] || fail "the good line was not printed"
echo "PASS ($(wc -l <"$W/in") vectors)"
