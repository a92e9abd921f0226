"""Only the dispatch module may create Step Functions or Lambda clients (DESIGN section 8)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUARDED_SERVICES = {"stepfunctions", "lambda"}
DISPATCH = ROOT / "lambdas" / "valuation" / "dispatch.py"


def clients_created(path: Path) -> list[tuple[int, str]]:
    """(line, service) of every `*.client("<service>")` call in a Python file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "client":
            continue
        arguments = [*node.args, *(k.value for k in node.keywords if k.arg == "service_name")]
        for argument in arguments[:1]:
            if isinstance(argument, ast.Constant) and argument.value in GUARDED_SERVICES:
                found.append((node.lineno, argument.value))
    return found


def project_sources() -> list[Path]:
    return [
        path
        for folder in ("lambdas", "cdk", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if ".venv" not in path.parts
    ]


def test_no_module_but_dispatch_creates_workflow_or_lambda_clients():
    offenders = [
        f"{path.relative_to(ROOT)}:{line} creates a {service} client"
        for path in project_sources()
        if path != DISPATCH
        for line, service in clients_created(path)
    ]
    assert offenders == []


def test_the_guard_sees_the_dispatch_module_client():
    assert (DISPATCH, "stepfunctions") in {
        (DISPATCH, service) for _, service in clients_created(DISPATCH)
    }


def test_the_guard_catches_a_client_elsewhere(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text('import boto3\nboto3.client(service_name="lambda").invoke()\n')
    assert clients_created(sneaky) == [(2, "lambda")]
