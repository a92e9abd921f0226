"""What each state of the state machine does. Handlers are thin wrappers around these methods.

Every step takes ids and returns ids: documents stay in Redis (DESIGN section 2).
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from lxml import etree

from .. import dispatch
from ..assembly import build_response, task_result_element
from ..engines import TaskError, TaskRun, TransientTaskError, run_engine
from ..hydration import context_from_settings, hydrate
from ..request import GroupPlan, RequestPlan, group_elements, read_plan, task_elements
from ..settings import Settings
from ..store import RequestStore
from ..store.requests import TERMINAL, utcnow
from ..taskdoc import GroupDocuments, referenced_groups
from ..xmlutil import parse_xml, q, to_bytes


class WorkflowError(RuntimeError):
    """The workflow met a request in a state it cannot continue from."""


class Workflow:
    def __init__(self, store: RequestStore, settings: Settings):
        self.store = store
        self.settings = settings

    def hydrate(self, request_id: str, execution_arn: str, resume_from_group: int = 0) -> dict:
        self.store.mark_started(request_id, execution_arn)
        if resume_from_group:  # a retry: the groups before it ran on this hydrated document
            plan = read_plan(self._hydrated_root(request_id))
            return {"groups": list(range(resume_from_group, len(plan.groups)))}
        xml = self.store.xml(request_id)
        if xml is None:
            raise WorkflowError(f"request {request_id} has no stored payload")
        metadata = self.store.metadata(request_id)
        context = context_from_settings(
            self.settings, request_id, json.loads(metadata.get("headers", "{}")),
            received_at=datetime.fromisoformat(metadata["receivedAt"]),
        )
        tree = hydrate(parse_xml(xml.encode()), context)
        plan = read_plan(tree.getroot())
        self.store.save_hydrated(request_id, to_bytes(tree).decode(), plan)
        return {"groups": list(range(resume_from_group, len(plan.groups)))}

    def prepare_group(self, request_id: str, group_index: int) -> dict:
        root = self._hydrated_root(request_id)
        plan = read_plan(root)
        group = plan.groups[group_index]
        self.store.start_group(request_id, group_index, group.name)
        tasks = task_elements(group_elements(root)[group_index])
        previous = plan.groups[group_index - 1].name if group_index > 0 else None
        wanted = set().union(*(referenced_groups(task) for task in tasks))
        earlier = self._earlier_results(request_id, plan, group_index, wanted | {previous})
        documents = GroupDocuments(
            request_id=request_id,
            group=group,
            tasks=tasks,
            parameters=root.find(q("Parameters")),
            metadata=self.kept_headers(request_id),
            earlier=earlier,
            previous_group=previous,
        )
        self.store.save_task_documents(request_id, documents)
        return {"taskIds": list(group.task_ids)}

    def run_task(self, request_id: str, group_index: int, task_id: str, retry_count: int) -> dict:
        attempt = retry_count + 1
        document = self.store.task_document(request_id, group_index, task_id)
        if document is None:
            raise WorkflowError(f"task {group_index}/{task_id} of {request_id} has no document")
        run = TaskRun(request_id, group_index, task_id, attempt)
        started_at, started = utcnow(), time.perf_counter()
        try:
            result = run_engine(document.encode(), run, self.settings)
        except TaskError as error:
            self._record_task_error(run, error)
            raise
        duration_ms = round((time.perf_counter() - started) * 1000)
        element = task_result_element(
            task_id,
            result,
            attempts=attempt,
            duration_ms=duration_ms,
            started_at=started_at,
            ended_at=utcnow(),
        )
        self.store.record_task_success(request_id, group_index, task_id, to_bytes(element).decode())
        return {"taskId": task_id, "status": "succeeded", "attempts": attempt}

    def complete_group(self, request_id: str, group_index: int) -> dict:
        (group,) = self.store.groups(request_id, [group_index])
        succeeded, total = int(group["tasksSucceeded"]), int(group["tasksTotal"])
        if succeeded != total:
            raise WorkflowError(
                f"group {group['name']!r} ended with {succeeded} of {total} tasks succeeded"
            )
        self.store.complete_group(request_id, group_index, group["name"])
        return {"groupIndex": group_index, "status": "succeeded"}

    def assemble(self, request_id: str) -> dict:
        state = self.store.state(request_id)
        groups = self.store.groups(request_id, range(int(state["groupsTotal"])))
        results = []
        for index, group in enumerate(groups):
            task_ids = json.loads(group["taskIds"])
            stored = self.store.task_results(request_id, index, task_ids)
            missing = [task for task, result in zip(task_ids, stored) if result is None]
            if missing:
                raise WorkflowError(f"group {group['name']!r} has no result for {missing}")
            results.append((group["name"], stored))
        response = build_response(request_id, state.get("clientRef"), results)
        self.store.succeed(request_id, to_bytes(response).decode())
        return {"status": "succeeded"}

    def record_failure(self, request_id: str, error: dict[str, Any]) -> dict:
        """End the request as failed with what the Catch saw (a task's own record comes first)."""
        name = error.get("Error", "Unknown")
        cause = error.get("Cause", "")
        try:  # a Lambda error's cause is its JSON error payload
            cause = json.loads(cause).get("errorMessage", cause)
        except (ValueError, AttributeError):
            pass
        detail = self.store.fail(request_id, {"error": name, "cause": cause, "at": utcnow()})
        return {"status": "failed", "error": detail.get("error")}

    def reconcile(self, execution_arn: str, status: str, error: str | None, cause: str | None):
        """End a request whose execution ended where no Catch could see it (a timeout, an
        abort, a RecordFailure that failed itself, a Hydrate that never ran). Nothing to do for
        a request already terminal, or when the execution is not its current run (a retry's)."""
        request_id = dispatch.request_id_of(execution_arn)
        state = self.store.state(request_id)
        current = dispatch.execution_name(request_id, int(state.get("runs") or 0))
        if not state or state["status"] in TERMINAL or not execution_arn.endswith(f":{current}"):
            return {"requestId": request_id, "reconciled": False}
        self.store.fail(request_id, {
            "error": f"Execution{status.title().replace('_', '')}",
            "cause": cause or error or f"the execution ended {status}",
            "at": utcnow(),
        })
        return {"requestId": request_id, "reconciled": True}

    # -- helpers --------------------------------------------------------------------------------

    def kept_headers(self, request_id: str) -> dict[str, str]:
        return json.loads(self.store.metadata(request_id).get("headers", "{}"))

    def _hydrated_root(self, request_id: str) -> etree._Element:
        xml = self.store.hydrated(request_id)
        if xml is None:
            raise WorkflowError(f"request {request_id} has no hydrated document")
        return parse_xml(xml.encode()).getroot()

    def _earlier_results(
        self, request_id: str, plan: RequestPlan, group_index: int, names: set[str | None]
    ) -> dict[str, dict[str, etree._Element]]:
        """The results of the earlier groups named in `names`, as task documents show them."""
        earlier: dict[str, dict[str, etree._Element]] = {}
        for group in plan.groups[:group_index]:
            if group.name in names:
                earlier[group.name] = self._group_results(request_id, group)
            else:
                earlier[group.name] = {}
        return earlier

    def _group_results(self, request_id: str, group: GroupPlan) -> dict[str, etree._Element]:
        results = {}
        stored = self.store.task_results(request_id, group.index, group.task_ids)
        for task_id, xml in zip(group.task_ids, stored):
            if xml is None:
                raise WorkflowError(f"group {group.name!r} has no result for task {task_id!r}")
            element = parse_xml(xml.encode()).getroot()
            element.set("group", group.name)
            element.set("groupIndex", str(group.index))
            results[task_id] = element
        return results

    def _record_task_error(self, run: TaskRun, error: TaskError) -> None:
        if isinstance(error, TransientTaskError) and run.attempt <= self.settings.max_task_retries:
            self.store.record_task_retry(
                run.request_id, run.group_index, run.task_id, f"attempt {run.attempt}: {error}"
            )
            return
        self.store.record_task_failure(
            run.request_id,
            run.group_index,
            run.task_id,
            {
                "error": type(error).__name__,
                "cause": error.message,
                "group": run.group_index,
                "task": run.task_id,
                "exitCode": error.exit_code,
                "stderrTail": error.stderr_tail,
                "attempts": run.attempt,
                "at": utcnow(),
            },
        )
