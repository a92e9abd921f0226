"""The external-command runner: the contract of DESIGN section 6."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from valuation.engines import TaskRun
from valuation.engines.errors import PermanentTaskError, TransientTaskError
from valuation.engines.external import run_command
from valuation.settings import Settings

RUN = TaskRun(request_id="r-1", group_index=2, task_id="t-9", attempt=3)
DOCUMENT = b'<TaskDocument xmlns="urn:valuation:1"/>'


@pytest.fixture
def settings() -> Settings:
    return replace(Settings.from_env(), task_timeout_seconds=5, task_output_max_bytes=10_000)


def engine(tmp_path: Path, body: str) -> str:
    script = tmp_path / "engine.py"
    script.write_text("import os, sys, time, subprocess\n" + body)
    return f"{sys.executable} {script}"


def test_the_document_goes_in_and_the_result_comes_out(tmp_path, settings):
    command = engine(tmp_path, (
        "doc = sys.stdin.read()\n"
        "names = ('REQUEST_ID', 'GROUP_INDEX', 'TASK_ID', 'ATTEMPT')\n"
        "ids = ' '.join(os.environ[k] for k in names)\n"
        "print(f'<Seen ids=\"{ids}\" size=\"{len(doc)}\"/>')\n"
    ))
    result = run_command(command, DOCUMENT, RUN, settings)
    assert result.tag == "Seen"
    assert result.get("ids") == "r-1 2 t-9 3"
    assert result.get("size") == str(len(DOCUMENT))


def test_exit_75_is_transient(tmp_path, settings):
    command = engine(tmp_path, "print('busy', file=sys.stderr); sys.exit(75)\n")
    with pytest.raises(TransientTaskError) as caught:
        run_command(command, DOCUMENT, RUN, settings)
    assert caught.value.exit_code == 75
    assert "busy" in caught.value.stderr_tail


def test_other_exits_are_permanent_with_the_stderr_tail(tmp_path, settings):
    command = engine(tmp_path, "sys.stderr.write('x' * 10000 + 'the end'); sys.exit(4)\n")
    with pytest.raises(PermanentTaskError) as caught:
        run_command(command, DOCUMENT, RUN, settings)
    assert caught.value.exit_code == 4
    assert caught.value.stderr_tail.endswith("the end")
    assert len(caught.value.stderr_tail) <= 4096


def test_output_that_is_not_xml_is_permanent(tmp_path, settings):
    command = engine(tmp_path, "print('42.0')\n")
    with pytest.raises(PermanentTaskError, match="not acceptable XML"):
        run_command(command, DOCUMENT, RUN, settings)


def test_hostile_output_is_refused(tmp_path, settings):
    command = engine(tmp_path, (
        "print('<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>')\n"
    ))
    with pytest.raises(PermanentTaskError, match="DOCTYPE"):
        run_command(command, DOCUMENT, RUN, settings)


def test_output_over_the_cap_is_permanent_and_stops_the_engine(tmp_path, settings):
    command = engine(tmp_path, (
        "sys.stdout.write('<r>')\n"
        "while True: sys.stdout.write('x' * 4096)\n"
    ))
    # The cap stopped it (permanent), not the timeout (transient): the engine never ends itself.
    with pytest.raises(PermanentTaskError, match="exceeds the limit of 10000 bytes"):
        run_command(command, DOCUMENT, RUN, settings)


def test_a_timeout_is_transient_and_kills_the_whole_process_group(tmp_path, settings):
    child_pid = tmp_path / "child.pid"
    command = engine(tmp_path, (
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(child_pid)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    ))
    with pytest.raises(TransientTaskError, match="timed out after 1s"):
        run_command(command, DOCUMENT, RUN, replace(settings, task_timeout_seconds=1))
    pid = int(child_pid.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.05)
    assert not alive(pid)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child that nobody reaped yet is a zombie: dead for our purposes.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[-1].split()[0] != "Z"
