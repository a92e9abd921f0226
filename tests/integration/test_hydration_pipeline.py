"""Hydration inside the real state machine: what it stores, and how its errors end a request."""

from __future__ import annotations

import pytest
from lxml import etree

from support import call_api
from valuation import api
from valuation.xmlutil import NSMAP

pytestmark = pytest.mark.integration

HEAD = '<ValuationRequest xmlns="urn:valuation:1" xmlns:h="urn:valuation:hydration:1">'


def sync(body: str, **headers: str):
    return call_api("POST", "/valuation?mode=sync", body.encode(), headers)


def test_the_hydrated_document_is_stored_and_tasks_see_it(local_stack, tmp_path):
    (tmp_path / "usd.xml").write_text(
        '<Quotes xmlns="urn:valuation:1"><Quote tenor="1Y" rate="0.04"/></Quotes>')
    local_stack(HYDRATION_DATA_ROOTS=str(tmp_path), METADATA_HEADERS="X-Desk")
    response = sync(
        f'{HEAD}<Parameters><Desk h:use-function="metadata(\'x-desk\')"/></Parameters>'
        '<MarketData><Curve id="USD" h:href="file:usd.xml"/></MarketData>'
        '<Group name="g"><Task id="t" type="Script">'
        "<Quotes h:select=\"//v:Curve[@id='USD']/v:Quotes/v:Quote\"/></Task></Group>"
        "</ValuationRequest>",
        **{"X-Desk": "rates"},
    )
    assert response.status == 200, response.text
    request_id = response.headers["x-request-id"]
    store = api.service().store

    hydrated = etree.fromstring(store.hydrated(request_id).encode())
    assert hydrated.xpath("string(//v:Parameters/v:Desk)", namespaces=NSMAP) == "rates"
    assert hydrated.xpath("//v:Task/v:Quotes/v:Quote/@rate", namespaces=NSMAP) == ["0.04"]
    assert not hydrated.xpath("//@h:*", namespaces=NSMAP)
    assert store.xml(request_id).count("h:href") == 1  # the submitted XML is kept as it came

    task_document = etree.fromstring(store.task_document(request_id, 0, "t").encode())
    assert task_document.xpath("//v:Task/v:Quotes/v:Quote/@tenor", namespaces=NSMAP) == ["1Y"]
    assert task_document.xpath("string(//v:Parameters/v:Desk)", namespaces=NSMAP) == "rates"


def test_a_hydration_error_fails_the_request_naming_the_directive_and_place(local_stack, tmp_path):
    local_stack(HYDRATION_DATA_ROOTS=str(tmp_path))
    response = sync(
        f'{HEAD}<MarketData><Curve id="EUR" h:href="file:eur.xml"/></MarketData>'
        '<Group name="g"><Task id="t" type="Script"/></Group></ValuationRequest>'
    )
    assert response.status == 422
    failure = response.json()["failure"]
    assert failure["error"] == "HydrationError"
    assert failure["cause"].startswith(
        'h:href="file:eur.xml" at /ValuationRequest/MarketData/Curve[@id=\'EUR\']')
    assert "no such file in the data roots" in failure["cause"]

    request_id = response.json()["requestId"]
    status = call_api("GET", f"/valuation/{request_id}/status").json()
    assert status["status"] == "failed" and status["groups"][0]["status"] == "pending"
    assert call_api("GET", f"/valuation/{request_id}/results").status == 422


def test_a_result_reference_to_nothing_fails_the_request_when_its_group_is_prepared(local_stack):
    local_stack()
    response = sync(
        f'{HEAD}<Group name="curves"><Task id="usd" type="Script"/></Group>'
        '<Group name="pricing"><Task id="bond" type="Script">'
        '<Curve h:result="curves/eur"/></Task></Group></ValuationRequest>'
    )
    assert response.status == 422
    failure = response.json()["failure"]
    assert failure["error"] == "ResultReferenceError"
    assert "group 'pricing'" in failure["cause"]
    assert "names no task 'eur' in group 'curves'" in failure["cause"]
    request_id = response.json()["requestId"]
    groups = call_api("GET", f"/valuation/{request_id}/status").json()["groups"]
    assert [g["status"] for g in groups] == ["succeeded", "failed"]
