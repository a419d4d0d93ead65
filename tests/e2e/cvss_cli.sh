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
# v4.0: the whole simple file in one batch, expected "(9.2,)" scores.
DATA4=$(dirname "$DATA")/vectors_simple4
sed 's/ - .*//' "$DATA4" >"$W/in4"
sed 's/.* - (\{0,1\}\([0-9.]*\).*/\1/' "$DATA4" >"$W/want4"
"$GRAFT" cvss - <"$W/in4" >"$W/out4"
cut -f2 "$W/out4" | diff - "$W/want4" >/dev/null || fail "v4 scores differ: $(cut -f2 "$W/out4" | diff - "$W/want4" | head -3)"
"$GRAFT" cvss --json CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N >"$W/j4"
grep -q '"score": 9.3' "$W/j4" && grep -q '"severity": "Critical"' "$W/j4" && grep -q '"macrovector": "000200"' "$W/j4" ||
  fail "v4 --json: $(cat "$W/j4")"
"$GRAFT" cvss AV:N/AC:L/Au:N/C:P/I:P/A:P | grep -q "score          7.5 (High)" || fail "v2 score"
echo "PASS ($(wc -l <"$W/in") v3.1 + $(wc -l <"$W/in4") v4.0 vectors)"
