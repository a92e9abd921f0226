"""The benchmark suite: the local stack with a real Redis, measured against this round's targets.

Each figure is measured `--repeat` times; RESULTS.md shows the median and the spread (min-max).
Task bodies use the built-in engine's `Noop` type, so what is measured is the orchestration.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
STEP_FUNCTIONS_HISTORY_CAP = 25_000


def request_xml(groups: int, tasks: int, pad_bytes: int = 0, prefix: str = "t") -> bytes:
    """A request of `groups` x `tasks` no-op tasks, padded with parameter rows to about
    `pad_bytes` (rows of 1 KB: libxml2 refuses single text nodes over 10 MB)."""
    row = "<Row>" + "x" * 1000 + "</Row>"
    padding = row * (pad_bytes // len(row))
    body = "".join(
        f'<Group name="g{g}">'
        + "".join(f'<Task id="{prefix}{g}-{t}" type="Noop"/>' for t in range(tasks))
        + "</Group>"
        for g in range(groups)
    )
    return (
        f'<ValuationRequest xmlns="urn:valuation:1"><Parameters>{padding}</Parameters>'
        f"{body}</ValuationRequest>"
    ).encode()


@dataclass
class Figure:
    name: str
    unit: str
    samples: list[float]
    target: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def row(self) -> str:
        low, high = min(self.samples), max(self.samples)
        return (f"| {self.name} | {self.median:,.2f} {self.unit} | {low:,.2f} - {high:,.2f} "
                f"| {len(self.samples)} | {self.target} |")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Bench:
    def __init__(self, repeat: int, scale: float):
        from valuation import api
        from valuation.local import LocalStack

        self.repeat = repeat
        self.scale = scale
        self.stack = LocalStack({"TASK_ENGINE_COMMAND": "", "SYNC_WAIT_TIMEOUT_MS": "600000"})
        self.stack.start()
        self.api = api
        self.figures: list[Figure] = []
        self.notes: list[str] = []

    def n(self, count: int) -> int:
        return max(1, int(count * self.scale))

    def service(self):
        return self.api.service()

    def post(self, body: bytes, query: str = "") -> dict:
        from valuation.local.http import invoke_api, proxy_event

        event = proxy_event("POST", f"/valuation{query}", {"Content-Type": "application/xml"}, body)
        return invoke_api(event, self.stack.settings.aws_region)

    def run_to_end(self, body: bytes) -> float:
        started = time.perf_counter()
        response = self.post(body)
        request_id = json.loads(response["body"])["requestId"]
        outcome = self.service().wait(request_id, 3_600_000)
        assert outcome == "succeeded", (request_id, outcome)
        return time.perf_counter() - started

    def measure(self, name: str, unit: str, target: str, sample: Callable[[], float]) -> Figure:
        figure = Figure(name, unit, [sample() for _ in range(self.repeat)], target)
        self.figures.append(figure)
        print(figure.row(), file=sys.stderr)
        return figure

    # -- the figures ----------------------------------------------------------------------------

    def submit_latency(self) -> None:
        for label, size, count, target in (
            ("1 KB", 1_000, 100, ""), ("1 MB", 1_000_000, 40, "p99 < 50 ms"),
            ("5 MB", 5_000_000, 10, ""),
        ):
            body = request_xml(1, 1, size)
            samples: dict[int, list[float]] = {50: [], 99: []}
            for _ in range(self.repeat):
                latencies = []
                for _ in range(self.n(count)):
                    started = time.perf_counter()
                    response = self.post(body)
                    latencies.append((time.perf_counter() - started) * 1000)
                    assert response["statusCode"] == 202, response["body"]
                    # The workflow shares this process: let it finish, so that the next submit
                    # is timed on its own, as a submit Lambda would run it.
                    self.service().wait(json.loads(response["body"])["requestId"], 600_000)
                samples[50].append(percentile(latencies, 50))
                samples[99].append(percentile(latencies, 99))
            for p in (50, 99):
                figure = Figure(f"async submit {label}, p{p}", "ms", samples[p],
                                target if p == 99 else "")
                self.figures.append(figure)
                print(figure.row(), file=sys.stderr)

    def sync_request(self) -> None:
        body = request_xml(2, 10)

        def once() -> float:
            started = time.perf_counter()
            response = self.post(body, "?mode=sync")
            assert response["statusCode"] == 200, response["body"]
            return time.perf_counter() - started

        self.measure("sync request 2 x 10 tasks, end to end", "s", "< 1 s", once)

    def throughput(self) -> Figure:
        groups, tasks = 10, self.n(100)
        body = request_xml(groups, tasks)
        return self.measure(
            f"throughput, {groups} x {tasks} tasks", "tasks/min", ">= 10,000",
            lambda: groups * tasks / self.run_to_end(body) * 60,
        )

    def overhead(self, throughput: Figure) -> None:
        per_task_e2e = [60_000 / value for value in throughput.samples]  # ms per task
        floor = [self.floor_per_task() for _ in range(self.repeat)]
        self.figures.append(Figure("handlers called directly (the floor)", "ms/task", floor))
        overhead = [e - f for e, f in zip(per_task_e2e, floor)]
        self.figures.append(Figure("orchestration overhead", "ms/task", overhead, "<= 3 ms"))
        ratios = [o / f for o, f in zip(overhead, floor)]
        self.figures.append(Figure("overhead / floor", "x", ratios))
        for figure in self.figures[-3:]:
            print(figure.row(), file=sys.stderr)

    def floor_per_task(self) -> float:
        """The same handlers' work for the throughput request, called in a plain loop."""
        from valuation.request import read_plan
        from valuation.workflow.steps import Workflow
        from valuation.xmlutil import parse_xml

        groups, tasks = 10, self.n(100)
        body = request_xml(groups, tasks)
        service = self.service()
        workflow = Workflow(service.store, service.settings)
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        service.store.create(request_id, body.decode(), read_plan(parse_xml(body).getroot()), {})
        plan = workflow.hydrate(request_id, "arn:floor", 0)
        for group in plan["groups"]:
            for task_id in workflow.prepare_group(request_id, group)["taskIds"]:
                workflow.run_task(request_id, group, task_id, 0)
            workflow.complete_group(request_id, group)
        workflow.assemble(request_id)
        return (time.perf_counter() - started) * 1000 / (groups * tasks)

    def wakeup(self) -> None:
        from valuation.request import read_plan
        from valuation.xmlutil import parse_xml

        store = self.service().store
        body = request_xml(1, 1)
        plan = read_plan(parse_xml(body).getroot())

        def one() -> float:
            request_id = str(uuid.uuid4())
            store.create(request_id, body.decode(), plan, {})
            returned: list[float] = []
            waiter = threading.Thread(
                target=lambda: (self.service().wait(request_id, 10_000),
                                returned.append(time.perf_counter())))
            waiter.start()
            time.sleep(0.005)  # let the waiter block on the stream
            published = time.perf_counter()
            store.succeed(request_id, "<ValuationResponse/>")
            waiter.join()
            return (returned[0] - published) * 1000

        samples: dict[int, list[float]] = {50: [], 99: []}
        for _ in range(self.repeat):
            latencies = [one() for _ in range(self.n(100))]
            samples[50].append(percentile(latencies, 50))
            samples[99].append(percentile(latencies, 99))
        for p, target in ((50, ""), (99, "p99 < 10 ms")):
            figure = Figure(f"wake-up, event to waiter, p{p}", "ms", samples[p], target)
            self.figures.append(figure)
            print(figure.row(), file=sys.stderr)

    def hydration(self) -> None:
        """Parse and hydrate a 10 MB, 1,000-task request in a fresh process, for its peak RSS."""
        from bench.hydration_probe import large_request

        with tempfile.NamedTemporaryFile(suffix=".xml") as document:
            document.write(large_request(self.n(1000)))
            document.flush()
            results = [
                json.loads(subprocess.run(
                    [sys.executable, "-m", "bench.hydration_probe", document.name],
                    cwd=HERE.parent, capture_output=True, text=True, check=True,
                ).stdout)
                for _ in range(self.repeat)
            ]
        size = results[0]["bytes"]
        for key, name, unit, target in (
            ("seconds", f"parse + hydrate {size / 1e6:.1f} MB, {results[0]['tasks']} tasks",
             "s", "< 2 s"),
            ("peakMemoryRatio", "peak memory / document size", "x", "< 10"),
        ):
            figure = Figure(name, unit, [r[key] for r in results], target)
            self.figures.append(figure)
            print(figure.row(), file=sys.stderr)

    def load(self) -> None:
        requests, tasks = self.n(100), self.n(100)

        def one_run() -> float:
            bodies = [request_xml(1, tasks, prefix=f"r{i}-") for i in range(requests)]
            started = time.perf_counter()
            with ThreadPoolExecutor(32) as pool:
                ids = [json.loads(r["body"])["requestId"] for r in pool.map(self.post, bodies)]
                outcomes = list(pool.map(lambda rid: self.service().wait(rid, 3_600_000), ids))
            elapsed = time.perf_counter() - started
            assert outcomes == ["succeeded"] * requests, outcomes
            store = self.service().store
            for request_id in ids:  # nothing lost: every task of every request has its result
                group = store.groups(request_id, [0])[0]
                assert int(group["tasksSucceeded"]) == tasks, (request_id, group)
            return elapsed

        figure = Figure(f"load: {requests} concurrent requests x {tasks} tasks, all terminal",
                        "s", [one_run()], "nothing lost")
        self.figures.append(figure)
        print(figure.row(), file=sys.stderr)

    def history_budget(self) -> None:
        """Events in the parent execution's history per request, group and task: for the
        definition as deployed (RunTasks a Distributed Map) and with RunTasks inline."""
        from valuation import dispatch
        from valuation.local.stack import ROLE_ARN
        from valuation.workflow.definition import (
            TASK_PROCESSORS,
            DefinitionValues,
            load_template,
            render,
        )

        def events(groups: int, tasks: int) -> int:
            response = self.post(request_xml(groups, tasks))
            request_id = json.loads(response["body"])["requestId"]
            assert self.service().wait(request_id, 600_000) == "succeeded"
            arn = self.service().store.state(request_id)["executionArn"]
            return dispatch.history_event_count(self.stack.settings, arn)

        def costs() -> tuple[float, float, float]:
            base, more_tasks, more_groups = events(1, 10), events(1, 60), events(3, 10)
            per_task = max((more_tasks - base) / 50, 0.0)  # noise must not make it negative
            per_group = (more_groups - base) / 2 - 10 * per_task
            return base - per_group - 10 * per_task, per_group, per_task

        fixed, per_group, per_task = costs()
        inline_values = {
            **DefinitionValues.from_settings(self.stack.settings).as_substitutions(),
            "TaskProcessorConfig": TASK_PROCESSORS["EXPRESS"],
        }
        inline = dispatch.create_state_machine(
            self.stack.settings, "valuation-inline",
            render(load_template(), inline_values, self.stack.function_arns), ROLE_ARN,
        )
        self.stack.configure(STATE_MACHINE_ARN=inline)
        try:
            _, inline_per_group, inline_per_task = costs()
        finally:
            self.stack.configure(STATE_MACHINE_ARN=self.stack.state_machine_arn)
        inline_largest = (STEP_FUNCTIONS_HISTORY_CAP - fixed - inline_per_group) / inline_per_task
        cap = f"{STEP_FUNCTIONS_HISTORY_CAP:,}"
        groups = int((STEP_FUNCTIONS_HISTORY_CAP - fixed) // per_group)
        self.notes.append(
            f"History budget (Standard's cap: {cap} events per execution), measured on requests "
            f"of 1 x 10, 1 x 60 and 3 x 10 tasks. With RunTasks inline, the parent records "
            f"{inline_per_task:.1f} events per task and {inline_per_group:.0f} per group: one "
            f"group could hold about {int(inline_largest):,} tasks. As deployed (a Distributed "
            f"Map), it records {per_task:.1f} per task, {per_group:.0f} per group and "
            f"{fixed:.0f} per request: the cap allows about {groups:,} groups, of any size as "
            f"far as history goes (each task's child execution has a history of its own). What "
            f"bounds a group then is the 256 KiB state payload carrying its task ids: about "
            f"{256 * 1024 // 12:,} tasks of 9-character ids."
        )
        print(self.notes[-1], file=sys.stderr)

    def close(self) -> None:
        self.stack.stop()


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "0")
    return (f"{os.cpu_count()} cores ({cpu}), {int(memory) / 1024 / 1024:.0f} GiB, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def write_results(bench: Bench, redis_version: str, started: float) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {time.strftime('%Y-%m-%d')} in "
        f"{time.time() - started:.0f} s.",
        "",
        f"- Machine: {machine()}",
        f"- Redis: {redis_version} (real server, `REDIS_URL`)",
        f"- Local stack: moto Step Functions interpreter, in-process Lambda, built-in `Noop` "
        f"engine, TASK_CONCURRENCY={bench.stack.settings.task_concurrency}",
        f"- Repeats: {bench.repeat}; scale {bench.scale}",
        "",
        "| figure | median | spread (min - max) | runs | target |",
        "|---|---|---|---|---|",
        *(figure.row() for figure in bench.figures),
        "",
        *bench.notes,
        "",
    ]
    RESULTS.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every count (a smoke run uses a small scale)")
    parser.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args(argv)
    started = time.time()
    bench = Bench(args.repeat, args.scale)
    try:
        bench.submit_latency()
        bench.sync_request()
        bench.overhead(bench.throughput())
        bench.wakeup()
        bench.hydration()
        bench.load()
        bench.history_budget()
        redis_version = bench.service().store.redis.info("server").get("redis_version", "?")
    finally:
        bench.close()
    if not args.no_write:
        write_results(bench, redis_version, started)
    return 0
