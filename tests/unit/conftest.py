from __future__ import annotations

from collections.abc import Iterator

import pytest

from support import SCRIPTED_ENGINE


@pytest.fixture
def embedded_stack() -> Iterator[object]:
    """The local stack on its embedded Redis (fakeredis), whatever REDIS_URL says."""
    from valuation.local import LocalStack

    with LocalStack({"REDIS_URL": "", "TASK_ENGINE_COMMAND": SCRIPTED_ENGINE}) as stack:
        yield stack
