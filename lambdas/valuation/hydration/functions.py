"""The functions `h:use-function` may call: a registry, never evaluated code.

An expression is a call of a registered name with literal or nested-call arguments, for example
`add-days(today(), 30)` or `metadata('x-desk', 'none')`. Operators add a function by registering
it under the entry point group `valuation.hydration_functions` (name = callable taking a
`FunctionScope` and string arguments, returning a string).
"""

from __future__ import annotations

import inspect
import os
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib.metadata import entry_points

from .errors import HydrationError

ENTRY_POINT_GROUP = "valuation.hydration_functions"


@dataclass(frozen=True)
class FunctionScope:
    """What a function may know about the request being hydrated."""

    request_id: str
    metadata: Mapping[str, str]
    received_at: datetime  # today() and now() mean the time the request arrived: stable on re-runs
    env_allowlist: frozenset[str]


Function = Callable[..., str]
_BUILTIN: dict[str, Function] = {}


def register(name: str) -> Callable[[Function], Function]:
    def add(function: Function) -> Function:
        _BUILTIN[name] = function
        return function

    return add


@register("today")
def _today(scope: FunctionScope) -> str:
    return scope.received_at.date().isoformat()


@register("now")
def _now(scope: FunctionScope) -> str:
    return scope.received_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@register("uuid")
def _uuid(scope: FunctionScope) -> str:
    return str(uuid.uuid4())


@register("request-id")
def _request_id(scope: FunctionScope) -> str:
    return scope.request_id


@register("metadata")
def _metadata(scope: FunctionScope, name: str, default: str | None = None) -> str:
    value = scope.metadata.get(name.lower(), default)
    if value is None:
        raise HydrationError(f"metadata({name!r}): the request has no such header")
    return value


@register("add-days")
def _add_days(scope: FunctionScope, day: str, days: str) -> str:
    try:
        return (date.fromisoformat(day) + timedelta(days=int(days))).isoformat()
    except ValueError:
        raise HydrationError(
            f"add-days({day!r}, {days!r}): expects an ISO date and whole days"
        ) from None


@register("env")
def _env(scope: FunctionScope, name: str) -> str:
    if name not in scope.env_allowlist:
        raise HydrationError(f"env({name!r}): not in HYDRATION_ENV_ALLOWLIST")
    value = os.environ.get(name)
    if value is None:
        raise HydrationError(f"env({name!r}): not set")
    return value


@cache
def registry() -> Mapping[str, Function]:
    """The built-in functions and those installed packages register (loaded once)."""
    functions = dict(_BUILTIN)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        functions[entry.name] = entry.load()
    return functions


# -- expressions ------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z][\w-]*)\s*\(|(?P<string>'[^']*'|\"[^\"]*\")"
                    r"|(?P<number>-?\d+(?:\.\d+)?)|(?P<punct>[,)]))")


def evaluate(expression: str, scope: FunctionScope) -> str:
    """The value of a function expression; every failure is a HydrationError."""
    parser = _Parser(expression, registry(), scope)
    value = parser.call()
    parser.expect_end()
    return value


class _Parser:
    def __init__(self, text: str, functions: Mapping[str, Function], scope: FunctionScope):
        self.text, self.position = text, 0
        self.functions, self.scope = functions, scope

    def _next(self) -> re.Match[str]:
        match = _TOKEN.match(self.text, self.position)
        if match is None:
            raise HydrationError(
                f"cannot read {self.text!r} at character {self.position + 1}: expected a call "
                "such as today(), a 'string' or a number"
            )
        self.position = match.end()
        return match

    def call(self) -> str:
        token = self._next()
        name = token.group("name")
        if name is None:
            raise HydrationError(f"{self.text!r} must be a function call such as today()")
        function = self.functions.get(name)
        if function is None:
            known = ", ".join(sorted(self.functions))
            raise HydrationError(f"unknown function {name!r} (known: {known})")
        arguments = self._arguments()
        try:
            inspect.signature(function).bind(self.scope, *arguments)
        except TypeError:
            raise HydrationError(f"{name}() does not take {len(arguments)} argument(s)") from None
        return str(function(self.scope, *arguments))

    def _arguments(self) -> list[str]:
        arguments: list[str] = []
        while True:
            saved = self.position
            token = self._next()
            if token.group("punct") == ")" and not arguments:
                return arguments
            if token.group("name"):
                self.position = saved
                arguments.append(self.call())
            elif token.group("string"):
                arguments.append(token.group("string")[1:-1])
            elif token.group("number"):
                arguments.append(token.group("number"))
            else:
                raise HydrationError(f"{self.text!r}: an argument is missing")
            separator = self._next().group("punct")
            if separator == ")":
                return arguments
            if separator != ",":
                raise HydrationError(f"{self.text!r}: expected ',' or ')'")

    def expect_end(self) -> None:
        if self.text[self.position:].strip():
            raise HydrationError(f"{self.text!r}: unexpected text after the call")
