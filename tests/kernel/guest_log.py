"""Results of the commands a QEMU guest ran through `run NAME CMD...`
(tests/kernel/qemu.sh guest_init), read from its console log."""
import json
import re


class GuestLog:
    def __init__(self, path):
        text = open(path).read()
        self.runs = {m[0]: (m[1], int(m[2]))
                     for m in re.findall(r"@@begin (\S+)\n(.*?)@@end \1 rc=(\d+)\n", text, re.S)}

    def rc(self, name):
        return self.runs[name][1]

    def ok(self, name):
        """The output of a command that must have succeeded."""
        out, rc = self.runs[name]
        assert rc == 0, f"{name}: rc {rc}: {out}"
        return out

    def refused(self, name, *needles):
        """A graft command that must have refused (exit 1), saying each needle."""
        out, rc = self.runs[name]
        assert rc == 1, f"{name}: expected a refusal, rc {rc}: {out}"
        for s in needles:
            assert s in out, f"{name}: '{s}' not in: {out}"
        return out

    def js(self, name):
        return json.loads(self.ok(name))
