"""Hostile and malformed XML is refused before anything is read, fetched or expanded."""

from __future__ import annotations

import os
import socket
import threading

import pytest

from support import call_api
from valuation.xmlutil import MAX_DEPTH, XmlRejected, parse_xml


@pytest.fixture
def fifo(tmp_path):
    """A named pipe: opening it for reading is what reading a file would do, and it shows."""
    path = tmp_path / "secret"
    os.mkfifo(path)
    return path


def nobody_opened(fifo_path) -> bool:
    # Opening the writing end without blocking fails with ENXIO while no reader has it open.
    try:
        os.close(os.open(fifo_path, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        return True
    return False


@pytest.fixture
def listener():
    """A TCP server on loopback that records whether anybody connected."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    connections: list[object] = []

    def accept():
        try:
            connections.append(server.accept())
        except OSError:
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    server.close()
    thread.join()


def test_external_file_entity_is_refused_and_not_read(fifo):
    document = f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{fifo}">]><r>&x;</r>'.encode()
    with pytest.raises(XmlRejected, match="DOCTYPE"):
        parse_xml(document)
    assert nobody_opened(fifo)


def test_external_http_entity_and_dtd_are_refused_and_not_fetched(listener):
    port, connections = listener
    for document in (
        f'<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:{port}/x">]><r>&x;</r>',
        f'<!DOCTYPE r SYSTEM "http://127.0.0.1:{port}/r.dtd"><r/>',
        f'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p.dtd"> %p;]><r/>',
    ):
        with pytest.raises(XmlRejected):
            parse_xml(document.encode())
    assert connections == []


def test_exponential_entity_expansion_is_refused():
    entities = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    )
    with pytest.raises(XmlRejected, match="DOCTYPE"):
        parse_xml(f"<!DOCTYPE r [{entities}]><r>&a9;</r>".encode())


def test_quadratic_entity_expansion_is_refused():
    document = f'<!DOCTYPE r [<!ENTITY a "{"x" * 50_000}">]><r>{"&a;" * 10_000}</r>'
    with pytest.raises(XmlRejected, match="DOCTYPE"):
        parse_xml(document.encode())


def test_xinclude_is_refused_and_not_read(fifo):
    document = (
        f'<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{fifo}"/></r>'
    ).encode()
    with pytest.raises(XmlRejected, match="XInclude"):
        parse_xml(document)
    assert nobody_opened(fifo)


def test_malformed_xml_reports_line_and_column():
    with pytest.raises(XmlRejected) as caught:
        parse_xml(b"<r>\n  <a>\n</r>")
    assert (caught.value.line, caught.value.column) == (3, 5)
    assert "line 3, column 5" in str(caught.value)


def test_depth_and_size_are_bounded():
    deep = "<a>" * (MAX_DEPTH + 1) + "</a>" * (MAX_DEPTH + 1)
    with pytest.raises(XmlRejected, match="depth"):
        parse_xml(deep.encode())
    with pytest.raises(XmlRejected, match="exceeds the limit of 10"):
        parse_xml(b"<r>0123456789</r>", max_bytes=10)


HOSTILE = [
    '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    '<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><r>&b;</r>',
    '<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="/etc/passwd"/></r>',
]
NOT_REQUESTS = {
    "<r/>": "root element must be ValuationRequest",
    '<ValuationRequest xmlns="urn:other"/>': "namespace urn:other",
    '<ValuationRequest xmlns="urn:valuation:1"/>': "has no Group",
    '<ValuationRequest xmlns="urn:valuation:1"><Group name="g"/></ValuationRequest>':
        "has no Task",
    '<ValuationRequest xmlns="urn:valuation:1"><Group name="g"><Task id="a"/><Task id="a"/>'
    "</Group></ValuationRequest>": "duplicate task id 'a'",
    '<ValuationRequest xmlns="urn:valuation:1"><Group name="g"><Task/></Group>'
    "</ValuationRequest>": "has no id",
    '<ValuationRequest xmlns="urn:valuation:1"><Group name="g"><Task id="a:b"/></Group>'
    "</ValuationRequest>": "task id 'a:b' must match",
}


@pytest.mark.parametrize("document", HOSTILE)
def test_the_api_refuses_hostile_xml_and_keeps_nothing(embedded_stack, document):
    assert_refused(embedded_stack, document.encode(), "Malformed or refused XML")


@pytest.mark.parametrize("document,problem", NOT_REQUESTS.items())
def test_the_api_refuses_what_is_not_a_valuation_request(embedded_stack, document, problem):
    detail = assert_refused(embedded_stack, document.encode(), "Not a valuation request")
    assert problem in detail


def test_the_api_reports_where_xml_is_malformed(embedded_stack):
    malformed = b'<ValuationRequest xmlns="urn:valuation:1">\n<Group>'
    response = call_api("POST", "/valuation", malformed)
    assert response.status == 400
    assert (response.json()["line"], response.json()["column"]) == (2, 8)


def assert_refused(stack, body: bytes, title: str) -> str:
    import boto3

    from valuation.store import get_redis

    response = call_api("POST", "/valuation", body)
    assert response.status == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == title
    assert get_redis().keys("*") == []
    sfn = boto3.client("stepfunctions", region_name=stack.settings.aws_region)
    assert sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"] == []
    return problem["detail"]
