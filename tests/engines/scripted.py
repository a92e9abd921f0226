#!/usr/bin/env python3
"""A test engine whose behaviour each task sets with attributes on its Task element:

    sleep="0.2"              seconds to work before answering
    failUntilAttempt="3"     exit 75 (temporary failure) on every attempt before this one
    exitCode="3"             fail permanently with this exit code
    failWhileExists="path"   fail permanently while this file exists
    stderr="text"            write this to stderr first
    output="not xml"         print this instead of a result

It answers <Echo task=".." attempt=".." sees=".." metadata=".."/>: `sees` lists the earlier
results the task document carries, `metadata` its kept request headers, so tests can check what
each task was given.
"""

import os
import sys
import time
import xml.etree.ElementTree as ET

NS = "{urn:valuation:1}"

document = ET.fromstring(sys.stdin.buffer.read())
task = document.find(f"{NS}Task")
attempt = int(os.environ["ATTEMPT"])
if task.get("stderr"):
    print(task.get("stderr"), file=sys.stderr)
time.sleep(float(task.get("sleep", "0")))
if attempt < int(task.get("failUntilAttempt", "0")):
    sys.exit(75)
if task.get("exitCode"):
    sys.exit(int(task.get("exitCode")))
if task.get("failWhileExists") and os.path.exists(task.get("failWhileExists")):
    sys.exit(9)
if task.get("output") is not None:
    print(task.get("output"))
    sys.exit(0)
seen = [f"{r.get('group')}/{r.get('id')}" for r in document.iter(f"{NS}TaskResult")
        if r.get("group")]
metadata = " ".join(f"{h.get('name')}={h.text}" for h in document.iter(f"{NS}Header"))
print(
    f'<Echo xmlns="urn:valuation:1" task="{os.environ["TASK_ID"]}" '
    f'group="{os.environ["GROUP_INDEX"]}" attempt="{attempt}" sees="{" ".join(sorted(set(seen)))}" '
    f'metadata="{metadata}"/>'
)
