"""The examples of docs/request-format.md, executed: each request hydrates to what the docs show."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from valuation.hydration import HydrationError, context_from_settings, hydrate
from valuation.settings import Settings
from valuation.xmlutil import parse_xml

DOC = Path(__file__).resolve().parents[2] / "docs" / "request-format.md"
BLOCK = re.compile(r"^```(\w+) ([^\n]+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks() -> list[tuple[str, str]]:
    return [(info.strip(), body) for _, info, body in BLOCK.findall(DOC.read_text())]


def files() -> dict[str, str]:
    return {info.removeprefix("file:"): body for info, body in blocks() if info.startswith("file:")}


def examples() -> list[tuple[str, str, str]]:
    """(request, 'hydrated' or 'error', what the docs show), in the order the docs give them."""
    pairs, pending = [], None
    for info, body in blocks():
        if info == "request":
            pending = body
        elif info in ("hydrated", "error"):
            pairs.append((pending, info, body))
            pending = None
    return pairs


def canonical(xml: str | bytes) -> bytes:
    parser = etree.XMLParser(remove_blank_text=True)
    return etree.tostring(etree.fromstring(xml, parser), method="c14n")


def test_the_docs_have_examples_of_both_outcomes():
    kinds = [kind for _, kind, _ in examples()]
    assert kinds.count("hydrated") >= 4 and kinds.count("error") >= 2


@pytest.mark.parametrize("request_xml,kind,shown", examples())
def test_each_example_hydrates_as_documented(tmp_path, request_xml, kind, shown):
    for name, body in files().items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)
    settings = replace(Settings.from_env(), hydration_data_roots=(str(tmp_path),))
    context = context_from_settings(
        settings, "req-1", {"x-desk": "rates"},
        received_at=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
    )
    tree = parse_xml(request_xml.encode())
    if kind == "error":
        with pytest.raises(HydrationError) as caught:
            hydrate(tree, context)
        assert str(caught.value) == shown.strip()
    else:
        assert canonical(etree.tostring(hydrate(tree, context))) == canonical(shown)
