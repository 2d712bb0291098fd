#!/usr/bin/python3
"""Adds up meson test logs (testlog.json) and pytest JUnit XML into one closing line,
'N passed, N failed' (plus skipped when any), exiting non-zero when anything failed or a
result file is missing."""
import json
import sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
missing = []
for path in sys.argv[1:]:
    try:
        if path.endswith(".json"):
            with open(path) as f:
                for line in f:
                    if not line.strip():
                        continue
                    r = json.loads(line)["result"]
                    if r in ("OK", "EXPECTEDFAIL"):
                        passed += 1
                    elif r == "SKIP":
                        skipped += 1
                    else:
                        failed += 1
        else:
            root = ET.parse(path).getroot()
            suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
            for s in suites:
                total = int(s.get("tests", 0))
                f = int(s.get("failures", 0)) + int(s.get("errors", 0))
                sk = int(s.get("skipped", 0))
                passed += total - f - sk
                failed += f
                skipped += sk
    except (OSError, ET.ParseError, ValueError) as e:
        missing.append(f"{path}: {e}")

for m in missing:
    print(f"missing results: {m}")
    failed += 1
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
