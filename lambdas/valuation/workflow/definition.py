"""Loads `statemachines/valuation.asl.json` and fills its `${...}` placeholders.

CDK and the local stack share this loader. The file stays valid JSON, so a placeholder always
stands inside a string; values (concurrency, retries, timeouts, how a group's tasks run) are
rendered here as JSON numbers or objects, while strings (function ARNs) may be left for
CloudFormation's substitution.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..settings import Settings

DEFINITION_PATH = Path(__file__).resolve().parents[3] / "statemachines" / "valuation.asl.json"

_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_WHOLE_STRING_PLACEHOLDER = re.compile(r'"\$\{(\w+)\}"')

# Seconds the state machine grants a task attempt beyond the engine's own limit, so the engine's
# timeout (a transient error with detail) fires before the state's (a bare States.Timeout).
TASK_STATE_TIMEOUT_MARGIN_SECONDS = 30

# How RunTasks runs a group's tasks. Standard: a Distributed Map, each task a child execution
# with a history of its own (an inline Map records about seven events per task in the parent,
# capping a request near 3,500 tasks under the 25,000-event limit). Express keeps no such
# history and cannot run a Distributed Map: inline.
TASK_PROCESSORS: dict[str, dict[str, str]] = {
    "STANDARD": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
    "EXPRESS": {"Mode": "INLINE"},
}


@dataclass(frozen=True)
class DefinitionValues:
    """The values rendered into the definition."""

    task_concurrency: int
    max_task_retries: int
    task_timeout_seconds: int  # the engine's limit; the state's is a margin longer
    retry_interval_seconds: int
    execution_timeout_seconds: int
    workflow_type: str = "STANDARD"

    @classmethod
    def from_settings(
        cls, settings: Settings, *, execution_timeout_seconds: int = 86_400
    ) -> DefinitionValues:
        return cls(
            task_concurrency=settings.task_concurrency,
            max_task_retries=settings.max_task_retries,
            task_timeout_seconds=settings.task_timeout_seconds,
            retry_interval_seconds=settings.retry_interval_seconds,
            execution_timeout_seconds=execution_timeout_seconds,
        )

    def as_substitutions(self) -> dict[str, Any]:
        return {
            "TaskProcessorConfig": TASK_PROCESSORS[self.workflow_type],
            "TaskConcurrency": self.task_concurrency,
            "MaxTaskRetries": self.max_task_retries,
            "TaskStateTimeoutSeconds": self.task_timeout_seconds
            + TASK_STATE_TIMEOUT_MARGIN_SECONDS,
            "RetryIntervalSeconds": self.retry_interval_seconds,
            "ExecutionTimeoutSeconds": self.execution_timeout_seconds,
        }


def load_template(path: Path = DEFINITION_PATH) -> str:
    return path.read_text(encoding="utf-8")


def placeholders(template: str) -> set[str]:
    return set(_PLACEHOLDER.findall(template))


def all_states(machine: Mapping[str, Any]) -> dict[str, dict]:
    """Every state of a definition, those inside Maps included, by name."""
    found = {}
    for name, state in machine["States"].items():
        found[name] = state
        if "ItemProcessor" in state:
            found.update(all_states(state["ItemProcessor"]))
    return found


def render(
    template: str,
    values: Mapping[str, Any],
    strings: Mapping[str, str] | None = None,
) -> str:
    """Fill whole-string placeholders with JSON values and, when given, string placeholders in
    place.

    Placeholders without a value are left for a later substitution (CloudFormation's).
    """
    strings = strings or {}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return json.dumps(values[name]) if name in values else match.group(0)

    def string(match: re.Match[str]) -> str:
        name = match.group(1)
        return json.dumps(strings[name])[1:-1] if name in strings else match.group(0)

    rendered = _PLACEHOLDER.sub(string, _WHOLE_STRING_PLACEHOLDER.sub(value, template))
    json.loads(rendered)  # a substitution must never leave the definition invalid
    return rendered
