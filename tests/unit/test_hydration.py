"""Hydration directives (DESIGN section 5), alone and combined, and how they fail."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime

import boto3
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from lxml import etree
from moto import mock_aws

from valuation.hydration import HydrationError, context_from_settings, hydrate
from valuation.hydration.functions import ENTRY_POINT_GROUP, registry
from valuation.request import read_plan
from valuation.settings import Settings
from valuation.xmlutil import NSMAP, parse_xml, to_bytes

RECEIVED = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
HEAD = '<ValuationRequest xmlns="urn:valuation:1" xmlns:h="urn:valuation:hydration:1">'


def request(body: str) -> bytes:
    return f"{HEAD}{body}<Group name='g'><Task id='t'/></Group></ValuationRequest>".encode()


@pytest.fixture
def data_root(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    return root


@pytest.fixture
def run(data_root):
    """Hydrate a request body; keyword arguments override settings."""

    def hydrate_body(body: str, metadata: dict | None = None, **overrides) -> etree._Element:
        settings = replace(
            Settings.from_env(), hydration_data_roots=(str(data_root),), **overrides
        )
        context = context_from_settings(settings, "req-7", metadata or {}, received_at=RECEIVED)
        return hydrate(parse_xml(request(body)), context).getroot()

    return hydrate_body


def one(root: etree._Element, xpath: str) -> etree._Element:
    (found,) = root.xpath(xpath, namespaces=NSMAP)
    return found


def directives_left(root: etree._Element) -> list[str]:
    return [a.attrname for a in root.xpath("//@h:*", namespaces=NSMAP)]


# -- each directive alone ---------------------------------------------------------------------

def test_href_inserts_a_file_from_a_data_root(run, data_root):
    (data_root / "market").mkdir()
    (data_root / "market" / "usd.xml").write_text(
        '<Quotes xmlns="urn:valuation:1"><Quote tenor="1Y" rate="0.04"/></Quotes>'
    )
    root = run('<MarketData><Curve id="USD" h:href="file:market/usd.xml"/></MarketData>')
    assert one(root, "//v:Curve/v:Quotes/v:Quote").get("rate") == "0.04"
    assert directives_left(root) == []


def test_href_reads_s3_objects():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="market")
        s3.put_object(Bucket="market", Key="eur/estr.xml",
                      Body=b'<Quotes xmlns="urn:valuation:1"><Quote rate="0.02"/></Quotes>')
        settings = replace(Settings.from_env(), aws_region="us-east-1")
        context = context_from_settings(settings, "r", {})
        tree = parse_xml(request('<Curve h:href="s3://market/eur/estr.xml"/>'))
        root = hydrate(tree, context).getroot()
        assert one(root, "//v:Quote").get("rate") == "0.02"

        missing = parse_xml(request('<Curve h:href="s3://market/eur/none.xml"/>'))
        with pytest.raises(HydrationError, match=r"s3://market/eur/none.xml.*no such object"):
            hydrate(missing, context)


def test_select_replaces_children_with_copies(run):
    root = run(
        '<MarketData><Quote tenor="1Y"/><Quote tenor="2Y"/></MarketData>'
        '<Curve h:select="/v:ValuationRequest/v:MarketData/v:Quote"><Old/></Curve>'
    )
    curve = one(root, "//v:Curve")
    assert [q.get("tenor") for q in curve] == ["1Y", "2Y"]
    assert len(root.xpath("//v:Quote", namespaces=NSMAP)) == 4  # copies: the originals stay


def test_attribute_select_sets_each_attribute(run):
    root = run(
        '<Parameters><Notional value="1000000"/><Ccy>USD</Ccy></Parameters>'
        '<Bond h:attribute-select="notional=/v:ValuationRequest/v:Parameters/v:Notional/@value;'
        ' currency=//v:Ccy; quotes=count(//v:Ccy)" coupon="0.05"/>'
    )
    bond = one(root, "//v:Bond")
    assert dict(bond.attrib) == {
        "notional": "1000000", "currency": "USD", "quotes": "1", "coupon": "0.05"}


@pytest.mark.parametrize(
    "expression,expected",
    [
        ("today()", "2026-11-24"),
        ("now()", "2026-11-24T09:30:00.000Z"),
        ("request-id()", "req-7"),
        ("add-days(today(), 30)", "2026-12-24"),
        ("add-days('2024-02-28', 1)", "2024-02-29"),
        ("metadata('X-Desk')", "rates"),
        ("metadata('x-missing', 'none')", "none"),
        ("env('VALUATION_REGION')", "emea"),
    ],
)
def test_use_function_sets_the_text(run, monkeypatch, expression, expected):
    monkeypatch.setenv("VALUATION_REGION", "emea")
    root = run(f'<Value h:use-function="{expression}"/>', {"x-desk": "rates"},
               env_function_allowlist=("VALUATION_REGION",))
    assert one(root, "//v:Value").text == expected


def test_uuid_gives_a_new_identifier_each_time(run):
    root = run('<A h:use-function="uuid()"/><B h:use-function="uuid()"/>')
    a, b = one(root, "//v:A").text, one(root, "//v:B").text
    assert len(a) == 36 and a != b


def test_result_is_left_for_the_group_to_resolve(run):
    root = run('<DiscountCurve h:result="curves/usd"/>')
    assert one(root, "//v:DiscountCurve").get("{urn:valuation:hydration:1}result") == "curves/usd"


# -- combined and over several passes ---------------------------------------------------------

def test_a_select_sees_what_an_href_fetched_in_the_same_pass(run, data_root):
    (data_root / "usd.xml").write_text(
        '<Quotes xmlns="urn:valuation:1"><Quote tenor="1Y"/><Quote tenor="5Y"/></Quotes>')
    root = run(
        '<MarketData><Curve id="USD" h:href="file:usd.xml"/></MarketData>'
        "<Task h:select=\"//v:Curve[@id='USD']/v:Quotes/v:Quote[2]\" "
        "h:attribute-select=\"first=//v:Curve[@id='USD']/v:Quotes/v:Quote[1]/@tenor\"/>"
    )
    task = one(root, "//v:Task[not(@id)]")
    assert [q.get("tenor") for q in task] == ["5Y"] and task.get("first") == "1Y"


def test_fetched_content_carries_directives_for_the_next_pass(run, data_root):
    (data_root / "book.xml").write_text(
        '<Book xmlns="urn:valuation:1" xmlns:h="urn:valuation:hydration:1">'
        '<Trades h:href="file:trades.xml"/><AsOf h:use-function="today()"/></Book>')
    (data_root / "trades.xml").write_text(
        '<Trades xmlns="urn:valuation:1"><Trade id="T1"/></Trades>')
    root = run('<Portfolio h:href="file:book.xml"/>')
    assert one(root, "//v:Trade").get("id") == "T1"
    assert one(root, "//v:AsOf").text == "2026-11-24"
    assert directives_left(root) == []


def test_fetched_content_can_add_tasks(run, data_root):
    (data_root / "task.xml").write_text('<Task xmlns="urn:valuation:1" id="fetched" type="Noop"/>')
    root = run('<Group name="more" h:href="file:task.xml"/>')
    assert read_plan(root).groups[0].task_ids == ("fetched",)


# -- failures ---------------------------------------------------------------------------------

def test_a_document_that_fetches_itself_is_a_cycle(run, data_root):
    (data_root / "loop.xml").write_text(
        '<Loop xmlns="urn:valuation:1" xmlns:h="urn:valuation:hydration:1" '
        'h:href="file:loop.xml"/>')
    with pytest.raises(HydrationError, match="cycle: file:loop.xml -> file:loop.xml"):
        run('<Start h:href="file:loop.xml"/>')


def test_two_documents_fetching_each_other_are_a_cycle(run, data_root):
    for name, other in (("a", "b"), ("b", "a")):
        (data_root / f"{name}.xml").write_text(
            f'<N xmlns="urn:valuation:1" xmlns:h="urn:valuation:hydration:1" '
            f'h:href="file:{other}.xml"/>')
    with pytest.raises(HydrationError, match="cycle: file:a.xml -> file:b.xml -> file:a.xml"):
        run('<Start h:href="file:a.xml"/>')


def test_selecting_an_ancestor_is_a_cycle(run):
    with pytest.raises(HydrationError, match="cycle: the XPath selects the element itself"):
        run('<Copy h:select="/v:ValuationRequest"/>')


def test_the_pass_limit_stops_a_chain_that_goes_on(run, data_root):
    for depth in range(5):
        (data_root / f"level{depth}.xml").write_text(
            f'<L xmlns="urn:valuation:1" xmlns:h="urn:valuation:hydration:1" '
            f'h:href="file:level{depth + 1}.xml"/>')
    (data_root / "level5.xml").write_text('<L xmlns="urn:valuation:1"/>')
    assert run('<S h:href="file:level0.xml"/>', hydration_max_passes=7) is not None
    with pytest.raises(HydrationError, match=r"remain after 3 passes \(HYDRATION_MAX_PASSES\)"):
        run('<S h:href="file:level0.xml"/>', hydration_max_passes=3)


@pytest.mark.parametrize("uri", ["file:../secret.xml", "file:sub/../../secret.xml"])
def test_traversal_out_of_the_data_roots_is_refused(run, data_root, uri):
    (data_root.parent / "secret.xml").write_text('<Secret xmlns="urn:valuation:1"/>')
    (data_root / "sub").mkdir()
    with pytest.raises(HydrationError, match=r"'\.\.' is not allowed"):
        run(f'<X h:href="{uri}"/>')


def test_an_absolute_path_outside_the_data_roots_is_refused(run, data_root):
    secret = data_root.parent / "secret.xml"
    secret.write_text('<Secret xmlns="urn:valuation:1"/>')
    with pytest.raises(HydrationError, match="leads outside the data roots"):
        run(f'<X h:href="file://{secret}"/>')


def test_a_symlink_out_of_the_data_roots_is_refused_and_not_read(run, data_root):
    outside = data_root.parent / "outside"
    os.mkfifo(outside)  # reading it would block: the test would hang, not pass
    (data_root / "link.xml").symlink_to(outside)
    with pytest.raises(HydrationError, match="leads outside the data roots"):
        run('<X h:href="file:link.xml"/>')


def test_a_missing_file_names_the_directive_and_its_place(run):
    with pytest.raises(HydrationError) as caught:
        run('<MarketData><Curve id="EUR" h:href="file:eur.xml"/></MarketData>')
    message = str(caught.value)
    assert message.startswith('h:href="file:eur.xml" at /ValuationRequest/MarketData/'
                              "Curve[@id='EUR'] (line 1)")
    assert "no such file in the data roots" in message


@pytest.mark.parametrize(
    "body,problem",
    [
        ('<X h:use-function="eval(1)"/>', "unknown function 'eval'"),
        ('<X h:use-function="__import__(\'os\')"/>', "at character 1: expected a call"),
        ('<X h:use-function="\'text\'"/>', "must be a function call"),
        ('<X h:use-function="today(1)"/>', "today() does not take 1 argument"),
        ('<X h:use-function="today() + 1"/>', "unexpected text after the call"),
        ('<X h:use-function="env(\'HOME\')"/>', "not in HYDRATION_ENV_ALLOWLIST"),
        ('<X h:use-function="metadata(\'x-none\')"/>', "no such header"),
        ('<X h:select="//v:Nothing"/>', "selects nothing"),
        ('<X h:select="//v:["/>', "invalid XPath"),
        ('<X h:attribute-select="no-xpath"/>', "must be attribute=XPath"),
        ('<X h:href="http://example.com/a.xml"/>', "scheme 'http' is not one of file:, s3:"),
        ('<X h:fetch="file:a.xml"/>', "unknown directive h:fetch at /ValuationRequest/X"),
    ],
)
def test_bad_directives_are_errors_naming_the_problem(run, body, problem):
    with pytest.raises(HydrationError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        run(body)


def test_fetched_content_is_parsed_as_strictly_as_a_request(run, data_root):
    (data_root / "evil.xml").write_text(
        '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>')
    with pytest.raises(HydrationError, match="refused.*DOCTYPE"):
        run('<X h:href="file:evil.xml"/>')


def test_a_function_is_added_by_registration(run, monkeypatch):
    class EntryPoint:
        name = "desk-code"

        @staticmethod
        def load():
            return lambda scope, prefix: f"{prefix}-{scope.request_id}"

    registry.cache_clear()
    monkeypatch.setattr(
        "valuation.hydration.functions.entry_points",
        lambda group: [EntryPoint] if group == ENTRY_POINT_GROUP else [],
    )
    try:
        root = run("<X h:use-function=\"desk-code('FX')\"/>")
    finally:
        registry.cache_clear()
    assert one(root, "//v:X").text == "FX-req-7"


# -- properties -------------------------------------------------------------------------------

NAMES = st.sampled_from(["Curve", "Quote", "Bond", "Leg", "Note"])
TEXT = st.text(alphabet=st.characters(codec="ascii", categories=("L", "N", "Zs")), max_size=12)


@st.composite
def plain_elements(draw, depth: int = 0) -> str:
    name = draw(NAMES)
    attrs = draw(st.dictionaries(st.sampled_from(["id", "rate", "tenor"]), TEXT, max_size=2))
    children = draw(st.lists(plain_elements(depth + 1), max_size=3)) if depth < 3 else []
    rendered = "".join(f' {key}="{value}"' for key, value in attrs.items())
    return f"<{name}{rendered}>{draw(TEXT)}{''.join(children)}</{name}>"


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.lists(plain_elements(), max_size=4))
def test_a_document_without_directives_is_left_unchanged(body):
    original = request("".join(body))
    context = context_from_settings(Settings.from_env(), "r", {})
    assert to_bytes(hydrate(parse_xml(original), context)) == to_bytes(parse_xml(original))


def test_a_ten_megabyte_request_of_a_thousand_tasks_hydrates():
    from bench.hydration_probe import large_request

    document = large_request(1000)
    assert len(document) > 10_000_000
    context = context_from_settings(Settings.from_env(), "big", {}, received_at=RECEIVED)
    root = hydrate(parse_xml(document), context).getroot()
    assert read_plan(root).task_count == 1000
    assert directives_left(root) == []
    assert root.xpath("count(//v:Task/v:Curve/v:Quote)", namespaces=NSMAP) == 1000
    assert set(root.xpath("//v:Task/v:Date/text()", namespaces=NSMAP)) == {"2026-11-24"}
