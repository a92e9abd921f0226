"""A request's documents, state and lifecycle events in Redis.

Each transition is one MULTI/EXEC over the request's own keys (one hash slot), followed by the
write to the global stream, which lives in a slot of its own. Writes that may run twice (Express
is at-least-once, Lambda retries) are guarded so that counters move once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import redis

from ..documents import REFERENCE_PREFIX, DocumentStore
from ..request import RequestPlan
from ..settings import Settings
from ..taskdoc import GroupDocuments, TaskParts, compose
from .keys import (
    DEADLETTER_STREAM,
    LIFECYCLE_STREAM,
    TASK_UPDATES_STREAM,
    RequestKeys,
    idempotency_key,
)

TERMINAL = ("succeeded", "failed")
TASK_STREAM_MAXLEN = 100_000

# KEYS: the outcome key, the group hash, [the request's failure key]. ARGV: the outcome, the
# counter to move, [the request failure]. Setting the outcome only once makes a repeated
# delivery of the same outcome a no-op, so the counter moves once.
_RECORD_TASK_OUTCOME = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 0 end
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
if KEYS[3] then redis.call('SET', KEYS[3], ARGV[3], 'NX') end
return 1
"""


# Deletes an idempotency claim only while it still names the request it was made for.
_RELEASE_CLAIM = """
local held = redis.call('GET', KEYS[1])
if held and cjson.decode(held)['requestId'] == ARGV[1] then redis.call('DEL', KEYS[1]) end
"""


class RequestNotFailed(RuntimeError):
    """Only a failed request can be reopened."""


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RequestStore:
    def __init__(self, client: redis.Redis, settings: Settings):
        self.redis = client
        self.settings = settings
        self.documents = (
            DocumentStore(settings.document_bucket, settings.aws_region)
            if settings.document_bucket
            else None
        )
        self._record_task_outcome = client.register_script(_RECORD_TASK_OUTCOME)
        self._release_claim = client.register_script(_RELEASE_CLAIM)

    # -- writes ---------------------------------------------------------------------------------

    def create(
        self,
        request_id: str,
        xml: str,
        plan: RequestPlan,
        metadata: Mapping[str, str],
    ) -> None:
        """Store the payload, its metadata, the initial state and `received`, all or nothing."""
        keys = RequestKeys(request_id)
        now = utcnow()
        stored = self._claim_check(request_id, "request.xml", xml)
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(keys.xml, stored)
        pipe.hset(keys.metadata, mapping={**metadata, "receivedAt": now})
        pipe.hset(
            keys.state,
            mapping={
                "requestId": request_id,
                "status": "received",
                "currentGroup": "",
                "groupsTotal": len(plan.groups),
                "tasksTotal": plan.task_count,
                "clientRef": plan.client_ref or "",
                "createdAt": now,
                "updatedAt": now,
            },
        )
        self._write_groups(pipe, keys, plan)
        event = self._event(pipe, keys, "received", at=now)
        pipe.execute()
        self._broadcast([event])

    def mark_started(self, request_id: str, execution_arn: str) -> None:
        self._transition(
            request_id, "started", state={"status": "started", "executionArn": execution_arn}
        )

    def save_hydrated(self, request_id: str, xml: str, plan: RequestPlan) -> None:
        """Keep the hydrated document; hydration may have changed what the groups hold."""
        keys = RequestKeys(request_id)
        stored = self._claim_check(request_id, "hydrated.xml", xml)
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(keys.hydrated, stored)
        pipe.hset(
            keys.state,
            mapping={"groupsTotal": len(plan.groups), "tasksTotal": plan.task_count},
        )
        self._write_groups(pipe, keys, plan)
        pipe.execute()

    def start_group(self, request_id: str, group: int, name: str) -> None:
        now = utcnow()
        self._transition(
            request_id,
            "group_started",
            state={"status": "running", "currentGroup": group},
            group=(group, {"status": "running", "startedAt": now}),
            at=now,
            fields={"group": group, "detail": name},
        )

    def complete_group(self, request_id: str, group: int, name: str) -> None:
        now = utcnow()
        self._transition(
            request_id,
            "group_completed",
            group=(group, {"status": "succeeded", "completedAt": now}),
            at=now,
            fields={"group": group, "detail": name},
        )

    def save_task_documents(self, request_id: str, documents: GroupDocuments) -> None:
        """Keep a group's shared parts once and each task's own parts (hashes)."""
        keys = RequestKeys(request_id)
        group = documents.group.index
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(keys.group_documents(group), mapping={
            "shared": documents.shared, "previousResults": documents.previous_results})
        for task_id, parts in documents.parts.items():
            fields = {"open": parts.open_tag, "task": parts.task}
            if parts.results is not None:
                fields["results"] = parts.results
            pipe.hset(keys.task_xml(group, task_id), mapping=fields)
        pipe.execute()

    def record_task_success(self, request_id: str, group: int, task_id: str, result: str) -> bool:
        """Keep a task's result; False when it was already kept (a repeated delivery)."""
        keys = RequestKeys(request_id)
        first = self._record_task_outcome(
            keys=[keys.task_result(group, task_id), keys.group(group)],
            args=[result, "tasksSucceeded"],
        )
        if first:
            self._append(
                TASK_UPDATES_STREAM,
                {"requestId": request_id, "event": "task_succeeded", "group": group,
                 "task": task_id, "at": utcnow()},
            )
        return bool(first)

    def record_task_retry(self, request_id: str, group: int, task_id: str, detail: str) -> None:
        self._append(
            TASK_UPDATES_STREAM,
            {"requestId": request_id, "event": "task_retrying", "group": group, "task": task_id,
             "detail": detail, "at": utcnow()},
        )

    def record_task_failure(
        self, request_id: str, group: int, task_id: str, failure: Mapping[str, Any]
    ) -> bool:
        """Keep a task's failure (the request's failure detail if it is the first), publish it
        and dead-letter the task. False when it was already recorded."""
        keys = RequestKeys(request_id)
        detail = json.dumps(failure)
        first = self._record_task_outcome(
            keys=[keys.task_failure(group, task_id), keys.group(group), keys.failure],
            args=[detail, "tasksFailed", detail],
        )
        if first:
            event = {"requestId": request_id, "group": group, "task": task_id,
                     "detail": failure.get("error", ""), "at": utcnow()}
            self._append(TASK_UPDATES_STREAM, {**event, "event": "task_failed"})
            self._append(DEADLETTER_STREAM, {**event, "event": "dead_lettered", "failure": detail})
        return bool(first)

    def succeed(self, request_id: str, response: str) -> None:
        keys = RequestKeys(request_id)
        stored = self._claim_check(request_id, "response.xml", response)
        self._finish(request_id, "succeeded", lambda pipe: pipe.set(keys.response, stored))

    def fail(self, request_id: str, failure: Mapping[str, Any]) -> dict[str, Any]:
        """End the request as failed. A task's failure detail, recorded first, is kept; the
        detail given here fills in what it lacks. Returns the detail that is kept."""
        keys = RequestKeys(request_id)
        recorded = self.failure(request_id) or {}
        detail = {**failure, **recorded}
        state = self.redis.hgetall(keys.state)
        current = state.get("currentGroup", "")

        def write(pipe: Any) -> None:
            pipe.set(keys.failure, json.dumps(detail))
            if current != "":
                pipe.hset(keys.group(int(current)), "status", "failed")

        self._finish(request_id, "failed", write, detail=detail.get("error", ""))
        return detail

    def claim_idempotency_key(self, key: str, request_id: str, body_hash: str) -> dict | None:
        """Claim `key` for a new request; when it is taken, return what holds it instead."""
        record = json.dumps({"requestId": request_id, "bodyHash": body_hash})
        if self.redis.set(
            idempotency_key(key), record, nx=True, ex=self.settings.idempotency_ttl_seconds
        ):
            return None
        held = self.redis.get(idempotency_key(key))
        return json.loads(held) if held else None

    def release_idempotency_key(self, key: str, request_id: str) -> None:
        """Give up a claim made for a request that was never stored."""
        self._release_claim(keys=[idempotency_key(key)], args=[request_id])

    def reopen(self, request_id: str, from_group: int) -> int:
        """Make a failed request runnable again from `from_group`; return the new run number.

        The results of earlier groups stay; the keys lose their expiry and the tombstone goes.
        Raises `RequestNotFailed` when the request is not failed (also when a concurrent retry
        reopened it first).
        """
        keys = RequestKeys(request_id)
        kept = list(self._request_keys(request_id))
        count = int(self.redis.hget(keys.state, "groupsTotal") or 0)
        again = range(from_group, count)
        stale = [keys.group_documents(index) for index in again] + [
            key
            for index in again
            for task_id in self.task_ids(request_id, index)
            for key in (
                keys.task_xml(index, task_id),
                keys.task_result(index, task_id),
                keys.task_failure(index, task_id),
            )
        ]
        at = utcnow()
        with self.redis.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(keys.state)
                if pipe.hget(keys.state, "status") != "failed":
                    raise RequestNotFailed(request_id)
                run = int(pipe.hget(keys.state, "runs") or 0) + 1
                pipe.multi()
                for key in kept:
                    pipe.persist(key)
                pipe.delete(keys.tombstone, keys.failure, keys.response, *stale)
                for index in again:
                    pipe.hset(keys.group(index), mapping={
                        "status": "pending", "tasksSucceeded": 0, "tasksFailed": 0})
                    pipe.hdel(keys.group(index), "startedAt", "completedAt")
                pipe.hset(keys.state, mapping={"status": "received", "runs": run, "updatedAt": at})
                pipe.hdel(keys.state, "completedAt")
                event = self._event(pipe, keys, "retried", at=at, group=from_group)
                pipe.execute()
            except redis.WatchError:
                raise RequestNotFailed(request_id) from None
        self._broadcast([event])
        return run

    # -- reads ----------------------------------------------------------------------------------

    def state(self, request_id: str) -> dict[str, str]:
        return self.redis.hgetall(RequestKeys(request_id).state)

    def groups(self, request_id: str, indices: Iterable[int]) -> list[dict[str, str]]:
        keys = RequestKeys(request_id)
        pipe = self.redis.pipeline(transaction=False)
        for index in indices:
            pipe.hgetall(keys.group(index))
        return pipe.execute()

    def is_expired(self, request_id: str) -> bool:
        return bool(self.redis.exists(RequestKeys(request_id).tombstone))

    def xml(self, request_id: str) -> str | None:
        return self._document(RequestKeys(request_id).xml)

    def hydrated(self, request_id: str) -> str | None:
        return self._document(RequestKeys(request_id).hydrated)

    def response(self, request_id: str) -> str | None:
        return self._document(RequestKeys(request_id).response)

    def metadata(self, request_id: str) -> dict[str, str]:
        return self.redis.hgetall(RequestKeys(request_id).metadata)

    def failure(self, request_id: str) -> dict[str, Any] | None:
        raw = self.redis.get(RequestKeys(request_id).failure)
        return json.loads(raw) if raw else None

    def task_document(self, request_id: str, group: int, task_id: str) -> str | None:
        keys = RequestKeys(request_id)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(keys.task_xml(group, task_id))
        pipe.hgetall(keys.group_documents(group))
        own, shared = pipe.execute()
        if not own or not shared:
            return None
        parts = TaskParts(own["open"], own["task"], own.get("results"))
        return compose(parts, shared["shared"], shared["previousResults"])

    def task_results(
        self, request_id: str, group: int, task_ids: Sequence[str]
    ) -> list[str | None]:
        keys = RequestKeys(request_id)
        if not task_ids:
            return []
        return self.redis.mget([keys.task_result(group, task_id) for task_id in task_ids])

    def task_ids(self, request_id: str, group: int) -> list[str]:
        raw = self.redis.hget(RequestKeys(request_id).group(group), "taskIds")
        return json.loads(raw) if raw else []

    def read_events(
        self, request_id: str, after: str, block_ms: int | None
    ) -> list[tuple[str, dict[str, str]]]:
        """Lifecycle events of one request after the stream id `after`, blocking when asked."""
        stream = RequestKeys(request_id).events
        reply = self.redis.xread({stream: after}, block=block_ms, count=100)
        return [entry for _, entries in reply for entry in entries] if reply else []

    # -- internals ------------------------------------------------------------------------------

    def _claim_check(self, request_id: str, name: str, document: str) -> str:
        """What Redis keeps for a document: itself, or a reference to it in the object store."""
        if self.documents is None or len(document) <= self.settings.claim_check_bytes:
            return document
        return self.documents.put(f"requests/{request_id}/{name}", document.encode("utf-8"))

    def _document(self, key: str) -> str | None:
        value = self.redis.get(key)
        if value is None or not value.startswith(REFERENCE_PREFIX):
            return value
        if self.documents is None:
            raise RuntimeError(f"{key} refers to the object store, but DOCUMENT_BUCKET is not set")
        return self.documents.resolve(value)

    def _write_groups(self, pipe: Any, keys: RequestKeys, plan: RequestPlan) -> None:
        for group in plan.groups:
            pipe.hset(
                keys.group(group.index),
                mapping={
                    "index": group.index,
                    "name": group.name,
                    "status": "pending",
                    "tasksTotal": len(group.task_ids),
                    "tasksSucceeded": 0,
                    "tasksFailed": 0,
                    "taskIds": json.dumps(group.task_ids),
                },
            )

    def _transition(
        self,
        request_id: str,
        event: str,
        *,
        state: Mapping[str, Any] | None = None,
        group: tuple[int, Mapping[str, Any]] | None = None,
        at: str | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        keys = RequestKeys(request_id)
        at = at or utcnow()
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(keys.state, mapping={**(state or {}), "updatedAt": at})
        if group is not None:
            pipe.hset(keys.group(group[0]), mapping=group[1])
        published = self._event(pipe, keys, event, at=at, **(fields or {}))
        pipe.execute()
        self._broadcast([published])

    def _finish(self, request_id: str, status: str, write: Any, detail: str = "") -> None:
        """The terminal transition: state, event, then every key of the request expires and a
        longer-lived tombstone remembers that it existed."""
        keys = RequestKeys(request_id)
        doomed = list(self._request_keys(request_id))
        ttl = self.settings.request_ttl_seconds
        at = utcnow()
        pipe = self.redis.pipeline(transaction=True)
        write(pipe)
        pipe.hset(keys.state, mapping={"status": status, "updatedAt": at, "completedAt": at})
        fields = {"detail": detail} if detail else {}
        published = self._event(pipe, keys, status, at=at, **fields)
        for key in doomed:
            pipe.expire(key, ttl)
        pipe.set(keys.tombstone, status, ex=ttl + self.settings.tombstone_ttl_seconds)
        pipe.execute()
        self._broadcast([published])

    def _request_keys(self, request_id: str) -> Iterable[str]:
        keys = RequestKeys(request_id)
        yield from keys.request_level()
        count = int(self.redis.hget(keys.state, "groupsTotal") or 0)
        for index in range(count):
            yield keys.group(index)
            yield keys.group_documents(index)
            for task_id in self.task_ids(request_id, index):
                yield keys.task_xml(index, task_id)
                yield keys.task_result(index, task_id)
                yield keys.task_failure(index, task_id)

    def _event(self, pipe: Any, keys: RequestKeys, event: str, *, at: str, **fields: Any):
        entry = {"requestId": keys.request_id, "event": event, "at": at, **fields}
        pipe.xadd(keys.events, entry)
        return entry

    def _broadcast(self, events: Iterable[Mapping[str, Any]]) -> None:
        for event in events:
            self._append(LIFECYCLE_STREAM, event, self.settings.lifecycle_stream_maxlen)

    def _append(self, stream: str, entry: Mapping[str, Any], maxlen: int = TASK_STREAM_MAXLEN):
        self.redis.xadd(stream, dict(entry), maxlen=maxlen, approximate=True)
