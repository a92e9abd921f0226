"""Redis key names. Every key of one request carries the request id as a hash tag, so that in
cluster mode (ElastiCache Serverless) they share a slot and one MULTI/EXEC can touch them all."""

from __future__ import annotations

from dataclasses import dataclass

LIFECYCLE_STREAM = "stream:request:lifecycle"
TASK_UPDATES_STREAM = "stream:task:updates"
DEADLETTER_STREAM = "stream:task:deadletter"


def idempotency_key(key: str) -> str:
    return f"request:idempotency:{key}"


@dataclass(frozen=True)
class RequestKeys:
    request_id: str

    @property
    def _tag(self) -> str:
        return "{" + self.request_id + "}"

    @property
    def xml(self) -> str:
        return f"cache:request:{self._tag}:xml"

    @property
    def metadata(self) -> str:
        return f"cache:request:{self._tag}:metadata"

    @property
    def hydrated(self) -> str:
        return f"cache:request:{self._tag}:hydrated"

    @property
    def response(self) -> str:
        return f"cache:request:{self._tag}:response"

    @property
    def failure(self) -> str:
        return f"cache:request:{self._tag}:failure"

    @property
    def state(self) -> str:
        return f"state:request:{self._tag}"

    @property
    def events(self) -> str:
        return f"stream:request:{self._tag}:events"

    @property
    def tombstone(self) -> str:
        return f"tombstone:request:{self._tag}"

    def group(self, index: int) -> str:
        return f"state:request:{self._tag}:group:{index}"

    def group_documents(self, index: int) -> str:
        return f"cache:task:{self._tag}:{index}:shared"

    def task_xml(self, group: int, task_id: str) -> str:
        return f"cache:task:{self._tag}:{group}:{task_id}:xml"

    def task_result(self, group: int, task_id: str) -> str:
        return f"cache:task:{self._tag}:{group}:{task_id}:result"

    def task_failure(self, group: int, task_id: str) -> str:
        return f"cache:task:{self._tag}:{group}:{task_id}:failure"

    def request_level(self) -> tuple[str, ...]:
        """The keys that do not depend on the request's shape."""
        return (
            self.xml, self.metadata, self.hydrated, self.response, self.failure, self.state,
            self.events,
        )
