"""Parse and hydrate one large request file in this fresh process; print time and peak memory.

Run by the suite as a subprocess on a file it wrote, so that the peak resident size measured
here is reading, parsing and hydrating the document, and nothing else.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from valuation.hydration import context_from_settings, hydrate
from valuation.request import read_plan
from valuation.settings import get_settings
from valuation.xmlutil import parse_xml

TARGET_BYTES = 10 * 1024 * 1024


def large_request(tasks: int) -> bytes:
    """About 10 MB: tasks whose inputs are selected from shared market data by directives."""
    quote = "<Quote tenor='{t}Y' rate='0.0{t}'/>"
    market = "".join(quote.format(t=t % 9 + 1) for t in range(200))
    per_task = max(0, TARGET_BYTES // tasks - 300)
    row = "<Row>" + "x" * 1000 + "</Row>"
    body = "".join(
        f'<Task id="t{i}" type="Noop">'
        f'<Curve h:select="/v:ValuationRequest/v:MarketData/v:Quote[1]"/>'
        f'<Date h:use-function="today()"/>' + row * (per_task // len(row)) + "</Task>"
        for i in range(tasks)
    )
    return (
        '<ValuationRequest xmlns="urn:valuation:1" xmlns:h="urn:valuation:hydration:1">'
        f"<MarketData>{market}</MarketData><Group name='g'>{body}</Group></ValuationRequest>"
    ).encode()


def peak_resident_bytes() -> int:
    """This process's peak resident size. Not getrusage: its ru_maxrss survives exec, so a child
    of a large process would report its parent's peak."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:", 1)[1].split()[0]) * 1024


def main() -> int:
    path = Path(sys.argv[1])
    baseline = peak_resident_bytes()
    started = time.perf_counter()
    document = path.read_bytes()
    tree = parse_xml(document)
    hydrated = hydrate(tree, context_from_settings(get_settings(), "bench", {}))
    plan = read_plan(hydrated.getroot())
    elapsed = time.perf_counter() - started
    peak = peak_resident_bytes() - baseline
    print(json.dumps({
        "bytes": len(document), "tasks": plan.task_count, "seconds": elapsed,
        "peakMemoryRatio": max(peak, 0) / len(document),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
