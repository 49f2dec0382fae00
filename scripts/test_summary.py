#!/usr/bin/env python3
"""Adds up Meson JUnit logs (one testcase per Criterion test) and extra counts, and prints
the closing line 'N passed, N failed, N skipped'. Exit status 1 if anything failed.

usage: test_summary.py [--extra PASSED FAILED LABEL]... JUNIT.xml...
"""
import sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
args = sys.argv[1:]
files = []
i = 0
while i < len(args):
    if args[i] == "--extra":
        p, f, label = int(args[i + 1]), int(args[i + 2]), args[i + 3]
        print(f"  {label}: {p} passed, {f} failed")
        passed += p
        failed += f
        i += 4
    else:
        files.append(args[i])
        i += 1
for path in files:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"  {path}: unreadable ({e})")
        failed += 1
        continue
    p = f = s = 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            f += 1
            print(f"  FAILED: {case.get('classname')} {case.get('name')}")
        elif case.find("skipped") is not None:
            s += 1
        else:
            p += 1
    print(f"  {path}: {p} passed, {f} failed, {s} skipped")
    passed, failed, skipped = passed + p, failed + f, skipped + s
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
