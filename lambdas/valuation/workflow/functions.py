"""The Lambda functions of the service: one code base, one entry point per function.

The CDK app deploys one function per entry; the local stack serves the state machine's Lambda
calls by the same names, so both run exactly the handlers listed here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # the state it serves, and the stem of its ARN placeholder in the ASL
    handler: str  # module:function, as Lambda's handler setting spells it with a dot
    memory_mb: int
    timeout_seconds: int

    @property
    def placeholder(self) -> str:
        return f"{self.name}FunctionArn"

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]


WORKFLOW_FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec("Hydrate", "valuation.handlers.hydrate.handler", 1769, 300),
    FunctionSpec("PrepareGroup", "valuation.handlers.prepare_group.handler", 1024, 300),
    FunctionSpec("RunTask", "valuation.handlers.run_task.handler", 1024, 900),
    FunctionSpec("CompleteGroup", "valuation.handlers.complete_group.handler", 256, 30),
    FunctionSpec("Assemble", "valuation.handlers.assemble.handler", 1769, 300),
    FunctionSpec("RecordFailure", "valuation.handlers.record_failure.handler", 256, 30),
)

API_FUNCTION = FunctionSpec("Api", "valuation.handlers.api.handler", 1024, 29)
# Driven by "Step Functions Execution Status Change" events: what no Catch can see.
RECONCILE_FUNCTION = FunctionSpec("Reconcile", "valuation.handlers.reconcile.handler", 256, 30)

ALL_FUNCTIONS = (*WORKFLOW_FUNCTIONS, API_FUNCTION, RECONCILE_FUNCTION)


def by_name(name: str) -> FunctionSpec:
    for spec in ALL_FUNCTIONS:
        if spec.name == name:
            return spec
    raise KeyError(f"no function named {name!r}")
