"""Synthesizing the CDK app offline (no bundling, no network, no AWS credentials), and reading
the template it makes."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "cdk"))

from aws_cdk import App  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from valuation_infra.config import CONTEXT_KEY, ServiceConfig, load_config  # noqa: E402
from valuation_infra.stack import ValuationStack, add_service  # noqa: E402

CDK_JSON_CONTEXT: dict[str, Any] = json.loads((REPO / "cdk.json").read_text())["context"]


@dataclass(frozen=True)
class Synthesized:
    config: ServiceConfig
    stack: ValuationStack
    template: Template

    @property
    def resources(self) -> dict[str, dict]:
        return self.template.to_json()["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict]:
        return self.template.find_resources(resource_type)

    def only(self, resource_type: str) -> tuple[str, dict]:
        (found,) = self.of_type(resource_type).items()
        return found

    def output(self, name: str) -> Any:
        return self.template.to_json()["Outputs"][name]["Value"]

    def function(self, handler: str) -> tuple[str, dict]:
        for logical_id, function in self.of_type("AWS::Lambda::Function").items():
            if function["Properties"]["Handler"] == handler:
                return logical_id, function
        raise KeyError(handler)

    def statements(self, role: str, prefix: str = "") -> list[dict]:
        """The role's inline policy statements (actions as a list) with an action that starts
        with `prefix` (e.g. "states:")."""
        found = []
        for policy in self.of_type("AWS::IAM::Policy").values():
            if {"Ref": role} not in policy["Properties"]["Roles"]:
                continue
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = as_list(statement["Action"])
                if any(action.startswith(prefix) for action in actions):
                    found.append({**statement, "Action": actions})
        return found


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def role_of(function: dict) -> str:
    return function["Properties"]["Role"]["Fn::GetAtt"][0]


def build(outdir: Path, **settings: Any) -> tuple[ServiceConfig, ValuationStack]:
    """The app on cdk.json's context, `settings` over its `valuation` object, as `cdk synth`
    would build it."""
    valuation = {**CDK_JSON_CONTEXT[CONTEXT_KEY], **settings}
    context = {
        **CDK_JSON_CONTEXT,
        CONTEXT_KEY: valuation,
        "aws:cdk:bundling-stacks": [],  # the asset is referenced, never built
    }
    app = App(context=context, outdir=str(outdir))
    return load_config(valuation), add_service(app)


def synthesize(outdir: Path, **settings: Any) -> Synthesized:
    config, stack = build(outdir, **settings)
    return Synthesized(config, stack, Template.from_stack(stack))
