"""The operator's valuation command (DESIGN section 6).

The task document goes to its stdin, the result XML comes from its stdout. Exit 75
(EX_TEMPFAIL) and a timeout are transient; any other failure is permanent and keeps the exit
code and the tail of stderr for support staff.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import tempfile
import threading
from typing import IO

from lxml import etree

from ..settings import Settings
from ..xmlutil import XmlRejected, parse_xml
from . import TaskRun
from .errors import PermanentTaskError, TransientTaskError

EX_TEMPFAIL = 75
STDERR_TAIL_BYTES = 4096


def run_command(command: str, document: bytes, run: TaskRun, settings: Settings) -> etree._Element:
    env = {
        **os.environ,
        "REQUEST_ID": run.request_id,
        "GROUP_INDEX": str(run.group_index),
        "TASK_ID": run.task_id,
        "ATTEMPT": str(run.attempt),
    }
    limit = settings.task_output_max_bytes
    with tempfile.TemporaryFile() as stderr:
        # Its own process group, so that a timeout or an oversized output kills its children too.
        process = subprocess.Popen(
            shlex.split(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            start_new_session=True,
        )
        expired = threading.Event()
        timer = threading.Timer(
            settings.task_timeout_seconds, lambda: (expired.set(), _kill(process))
        )
        timer.start()
        try:
            threading.Thread(target=_feed, args=(process.stdin, document), daemon=True).start()
            # Read one byte past the cap: enough to know it was exceeded, never more.
            output = process.stdout.read(limit + 1)
            if len(output) > limit:
                _kill(process)
            code = process.wait()
        finally:
            timer.cancel()
            _kill(process)
            process.stdout.close()
        tail = _tail(stderr)
    if expired.is_set():
        raise TransientTaskError(
            f"engine timed out after {settings.task_timeout_seconds}s", stderr_tail=tail
        )
    if len(output) > limit:
        raise PermanentTaskError(
            f"engine output exceeds the limit of {limit} bytes", stderr_tail=tail
        )
    if code == EX_TEMPFAIL:
        raise TransientTaskError(
            f"engine exited with {code} (temporary failure)", exit_code=code, stderr_tail=tail
        )
    if code != 0:
        raise PermanentTaskError(f"engine exited with {code}", exit_code=code, stderr_tail=tail)
    try:
        return parse_xml(output).getroot()
    except XmlRejected as exc:
        raise PermanentTaskError(
            f"engine output is not acceptable XML: {exc}", exit_code=code, stderr_tail=tail
        ) from None


def _feed(stdin: IO[bytes], document: bytes) -> None:
    try:
        stdin.write(document)
        stdin.close()
    except (BrokenPipeError, ValueError):
        pass  # the engine stopped reading; its exit status tells what happened


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _tail(stream: IO[bytes]) -> str:
    size = stream.seek(0, os.SEEK_END)
    stream.seek(max(0, size - STDERR_TAIL_BYTES))
    return stream.read().decode("utf-8", errors="replace")
