"""`valuation serve` and `valuation run` (DESIGN section 10): the local stack from a shell."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="valuation", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the local stack with its HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    run = commands.add_parser("run", help="value one request on the local stack")
    run.add_argument("file", type=Path, help="the valuation request (XML)")
    run.add_argument("--timeout", type=float, default=600, help="seconds to wait (default 600)")
    commands.add_parser("openapi", help="print the API's OpenAPI document")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args.host, args.port)
    if args.command == "openapi":
        return _openapi()
    return _run(args.file, args.timeout)


def _openapi() -> int:
    from .api import openapi_document

    print(json.dumps(openapi_document(), indent=2))
    return 0


def _serve(host: str, port: int) -> int:
    from .local import LocalStack
    from .local.http import make_server

    with LocalStack() as stack:
        server = make_server(host, port)
        url = f"http://{host}:{server.server_address[1]}"
        stack.configure(UPLOAD_URL_BASE=url)
        print(f"valuation local stack listening on {url}", file=sys.stderr)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return 0


def _run(file: Path, timeout: float) -> int:
    from . import api
    from .local import LocalStack
    from .local.http import invoke_api, proxy_event

    try:
        body = file.read_bytes()
    except OSError as exc:
        print(f"valuation: cannot read {file}: {exc.strerror}", file=sys.stderr)
        return 2
    with LocalStack() as stack:
        event = proxy_event("POST", "/valuation", {"Content-Type": "application/xml"}, body)
        response = invoke_api(event, stack.settings.aws_region)
        answer = json.loads(response["body"])
        if response["statusCode"] != 202:
            _print_problem(answer)
            return 1
        request_id = answer["requestId"]
        print(f"request {request_id} accepted", file=sys.stderr)
        service = api.service()
        progress = _Progress(service, request_id)
        outcome = service.wait(
            request_id, int(timeout * 1000), on_progress=progress.show, slice_ms=200
        )
        progress.show([])
        if outcome == "succeeded":
            print(_indented(service.store.response(request_id)))
            return 0
        if outcome == "failed":
            _print_problem(service.failure_problem(request_id).as_dict())
            return 1
        print(f"valuation: no outcome after {timeout:g}s; request {request_id} goes on",
              file=sys.stderr)
        return 3


class _Progress:
    """Prints a line whenever the request's group or task counts move."""

    def __init__(self, service: Any, request_id: str):
        self.service = service
        self.request_id = request_id
        self.last = ""

    def show(self, _events: list[dict[str, str]]) -> None:
        status = self.service.status(self.request_id)
        line = f"{status['status']}"
        if status["currentGroup"] is not None:
            group = status["groups"][status["currentGroup"]]
            done = group["tasksSucceeded"] + group["tasksFailed"]
            line += (f": group {group['index'] + 1}/{len(status['groups'])} {group['name']!r}, "
                     f"{done}/{group['tasksTotal']} tasks done")
            if group["tasksFailed"]:
                line += f" ({group['tasksFailed']} failed)"
        if line != self.last:
            print(line, file=sys.stderr)
            self.last = line


def _indented(document: str) -> str:
    from lxml import etree

    root = etree.fromstring(document.encode())
    etree.indent(root)
    return etree.tostring(root, encoding="unicode")


def _print_problem(problem: dict[str, Any]) -> None:
    print(json.dumps(problem, indent=2), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
