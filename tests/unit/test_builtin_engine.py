"""The built-in engine against closed forms and published values (docs/engines.md).

Tasks run as the workflow runs them: each group's task documents are built by
`taskdoc.build_task_document` from the results of the groups before, serialized, and valued.
"""

from __future__ import annotations

import math
import re
from datetime import date

import pytest
from lxml import etree

from valuation.assembly import task_result_element
from valuation.engines.builtin import ENGINES, evaluate
from valuation.engines.builtin.options import black_scholes
from valuation.engines.errors import PermanentTaskError
from valuation.request import GroupPlan
from valuation.taskdoc import build_task_document
from valuation.xmlutil import HNS, NS, parse_xml, to_bytes

VALUATION_DATE = "2026-11-24"
Group = tuple[str, list[str]]


def element(xml: str) -> etree._Element:
    """One element written without namespace declarations, in the request's namespaces."""
    return etree.fromstring(f'<wrapper xmlns="{NS}" xmlns:h="{HNS}">{xml}</wrapper>')[0]


def run_groups(
    *groups: Group, valuation_date: str | None = VALUATION_DATE
) -> dict[str, dict[str, etree._Element]]:
    """Value groups of task XML in order; return group -> task id -> engine result element."""
    parameters = (
        element(f"<Parameters><ValuationDate>{valuation_date}</ValuationDate></Parameters>")
        if valuation_date
        else None
    )
    earlier: dict[str, dict[str, etree._Element]] = {}
    bodies: dict[str, dict[str, etree._Element]] = {}
    previous = None
    for index, (name, task_xml) in enumerate(groups):
        tasks = [element(xml) for xml in task_xml]
        plan = GroupPlan(index, name, tuple(task.get("id") for task in tasks))
        results, bodies[name] = {}, {}
        for task in tasks:
            document = build_task_document(
                request_id="r-1", group=plan, task=task, parameters=parameters, metadata={},
                earlier=earlier, previous_group=previous,
            )
            body = evaluate(parse_xml(to_bytes(document)).getroot())
            bodies[name][task.get("id")] = body
            result = task_result_element(
                task.get("id"), etree.fromstring(to_bytes(body)),
                attempts=1, duration_ms=1, started_at="", ended_at="",
            )
            result.set("group", name)
            result.set("groupIndex", str(index))
            results[task.get("id")] = result
        earlier[name], previous = results, name
    return bodies


def value(
    task_xml: str, *before: Group, valuation_date: str | None = VALUATION_DATE
) -> etree._Element:
    """The result of one task valued after the groups `before`."""
    task_id = element(task_xml).get("id")
    return run_groups(*before, ("task", [task_xml]), valuation_date=valuation_date)["task"][task_id]


def number(result: etree._Element, name: str) -> float:
    return float(result.get(name))


def flat_curve(rate: float) -> Group:
    """`curves/flat`: the zero rate `rate` at every time."""
    return ("curves", [
        f'<Task id="flat" type="DiscountCurve">'
        f'<ZeroRate tenor="1Y" rate="{rate}"/><ZeroRate tenor="30Y" rate="{rate}"/></Task>'
    ])


def years(start: str, end: str) -> float:
    return (date.fromisoformat(end) - date.fromisoformat(start)).days / 365


# -- DiscountCurve ------------------------------------------------------------------------------


def test_a_flat_curve_discounts_at_exp_minus_rt():
    curve = value(
        '<Task id="c" type="DiscountCurve"><Quotes>'
        '<ZeroRate tenor="6M" rate="0.03"/><ZeroRate tenor="2Y" rate="0.03"/>'
        '<ZeroRate years="7.5" rate="0.03"/></Quotes></Task>'
    )
    points = curve.findall(f"{{{NS}}}Point")
    assert [number(p, "years") for p in points] == [0.5, 2.0, 7.5]
    for point in points:
        assert number(point, "discountFactor") == pytest.approx(
            math.exp(-0.03 * number(point, "years")), rel=1e-11
        )
    assert curve.get("interpolation") == "linear-zero"
    assert curve.get("value") is None  # a market object, not a position


def test_a_deposit_is_simple_interest_and_a_dated_quote_is_act_365():
    curve = value(
        '<Task id="c" type="DiscountCurve">'
        '<Deposit tenor="3M" rate="0.05"/><ZeroRate date="2028-11-24" rate="0.04"/></Task>'
    )
    deposit, dated = curve.findall(f"{{{NS}}}Point")
    assert number(deposit, "discountFactor") == pytest.approx(1 / (1 + 0.05 * 0.25), rel=1e-11)
    assert number(deposit, "zeroRate") == pytest.approx(math.log(1 + 0.05 * 0.25) / 0.25)
    assert number(dated, "years") == pytest.approx(731 / 365)  # 2028 is a leap year


@pytest.mark.parametrize(
    ("expiry_years", "zero_rate"),
    [(0.5, 0.02), (1.0, 0.02), (2.0, 0.03), (2.5, 0.035), (3.0, 0.04), (10.0, 0.04)],
)
def test_zero_rates_interpolate_linearly_between_pillars_and_extrapolate_flat(
    expiry_years, zero_rate
):
    curve = ("curves", [
        '<Task id="c" type="DiscountCurve">'
        '<ZeroRate tenor="1Y" rate="0.02"/><ZeroRate tenor="3Y" rate="0.04"/></Task>'
    ])
    option = value(
        f'<Task id="o" type="EuropeanOption"><Option kind="call" spot="100" strike="100" '
        f'volatility="0.2" years="{expiry_years}"/><DiscountCurve h:result="curves/c"/></Task>',
        curve,
    )
    assert number(option, "rate") == pytest.approx(zero_rate, rel=1e-11)
    assert option.get("curve") == "curves/c"


# -- EuropeanOption -----------------------------------------------------------------------------


def test_hull_black_scholes_example():
    """Hull, Options, Futures, and Other Derivatives, the Black-Scholes-Merton chapter's
    example: S=42, K=40, r=10%, sigma=20%, T=0.5: call 4.76, put 0.81."""
    def option(kind: str) -> etree._Element:
        return value(
            f'<Task id="o" type="EuropeanOption"><Option kind="{kind}" spot="42" strike="40" '
            f'rate="0.1" volatility="0.2" years="0.5"/></Task>'
        )

    assert round(number(option("call"), "price"), 2) == 4.76
    assert round(number(option("put"), "price"), 2) == 0.81


@pytest.mark.parametrize(
    ("spot", "strike", "years", "rate", "dividend_yield", "volatility"),
    [(42, 40, 0.5, 0.1, 0.0, 0.2), (5900, 6000, 0.56, 0.036, 0.013, 0.18),
     (100, 150, 3.0, -0.005, 0.04, 0.35)],
)
def test_put_call_parity(spot, strike, years, rate, dividend_yield, volatility):
    call = black_scholes("call", spot, strike, years, rate, dividend_yield, volatility)
    put = black_scholes("put", spot, strike, years, rate, dividend_yield, volatility)
    forward_value = spot * math.exp(-dividend_yield * years) - strike * math.exp(-rate * years)
    assert call["price"] - put["price"] == pytest.approx(forward_value, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("kind", ["call", "put"])
def test_greeks_are_the_derivatives_of_the_price(kind):
    base = {"spot": 105.0, "strike": 100.0, "years": 0.75, "rate": 0.03,
            "dividend_yield": 0.02, "volatility": 0.25}

    def price(**bumped: float) -> float:
        return black_scholes(kind, **{**base, **bumped})["price"]

    def slope(name: str, h: float) -> float:
        return (price(**{name: base[name] + h}) - price(**{name: base[name] - h})) / (2 * h)

    greeks = black_scholes(kind, **base)
    h = 1e-3
    assert greeks["delta"] == pytest.approx(slope("spot", h), rel=1e-6)
    assert greeks["gamma"] == pytest.approx(
        (price(spot=base["spot"] + h) - 2 * price() + price(spot=base["spot"] - h)) / h**2,
        rel=1e-4,
    )
    assert greeks["vega"] == pytest.approx(slope("volatility", 1e-5), rel=1e-6)
    assert greeks["rho"] == pytest.approx(slope("rate", 1e-5), rel=1e-6)
    assert greeks["theta"] == pytest.approx(-slope("years", 1e-5), rel=1e-6)


def test_the_option_value_is_price_times_quantity():
    option = value(
        '<Task id="o" type="EuropeanOption"><Option kind="put" spot="42" strike="40" rate="0.1" '
        'volatility="0.2" years="0.5" quantity="-300"/></Task>'
    )
    assert number(option, "value") == pytest.approx(-300 * number(option, "price"), rel=1e-11)


# -- FixedRateBond ------------------------------------------------------------------------------


def test_a_bond_whose_coupon_is_its_yield_is_worth_par_on_a_coupon_date():
    bond = value(
        '<Task id="b" type="FixedRateBond"><Bond coupon="0.05" yield="0.05" frequency="2" '
        'maturity="2031-11-24" notional="2000000"/></Task>'
    )
    assert number(bond, "dirtyPrice") == pytest.approx(100, rel=1e-11)
    assert number(bond, "cleanPrice") == pytest.approx(100, rel=1e-11)
    assert number(bond, "accruedInterest") == 0
    assert number(bond, "yieldToMaturity") == pytest.approx(0.05, rel=1e-10)
    assert number(bond, "value") == pytest.approx(2_000_000, rel=1e-11)


def test_a_bond_at_a_yield_is_the_annuity_formula():
    """6% semi-annual, 2 years, 4% yield, on a coupon date: 3 a(4, 2%) + 100 v^4 = 103.8077."""
    bond = value(
        '<Task id="b" type="FixedRateBond"><Bond coupon="0.06" yield="0.04" frequency="2" '
        'maturity="2028-11-24"/></Task>'
    )
    v = 1 / 1.02
    closed_form = 3 * (1 - v**4) / 0.02 + 100 * v**4
    assert number(bond, "dirtyPrice") == pytest.approx(closed_form, rel=1e-11)
    assert round(number(bond, "dirtyPrice"), 4) == 103.8077


def test_a_bond_off_a_flat_curve_between_coupon_dates():
    """Coupons 2027-05-24, 2027-11-24, 2028-05-24; accrued ACT/ACT from 2026-11-24."""
    rate = 0.035
    bond = value(
        '<Task id="b" type="FixedRateBond"><Bond coupon="0.04" frequency="2" '
        'maturity="2028-05-24" notional="1000000"/><DiscountCurve h:result="curves/flat"/></Task>',
        flat_curve(rate),
        valuation_date="2027-02-24",
    )
    flows = [("2027-05-24", 2.0), ("2027-11-24", 2.0), ("2028-05-24", 102.0)]
    dirty = sum(amount * math.exp(-rate * years("2027-02-24", day)) for day, amount in flows)
    accrued = 2.0 * years("2026-11-24", "2027-02-24") / years("2026-11-24", "2027-05-24")
    assert number(bond, "dirtyPrice") == pytest.approx(dirty, rel=1e-11)
    assert number(bond, "accruedInterest") == pytest.approx(accrued, rel=1e-11)
    assert number(bond, "cleanPrice") == pytest.approx(dirty - accrued, rel=1e-11)
    assert number(bond, "value") == pytest.approx(dirty * 10_000, rel=1e-11)
    assert bond.get("previousCoupon") == "2026-11-24"
    assert [flow.get("date") for flow in bond.findall(f"{{{NS}}}CashFlow")] == [d for d, _ in flows]


def test_the_yield_to_maturity_reprices_the_bond():
    curve = ("curves", [
        '<Task id="c" type="DiscountCurve">'
        '<ZeroRate tenor="1Y" rate="0.03"/><ZeroRate tenor="10Y" rate="0.045"/></Task>'
    ])
    terms = 'coupon="0.0425" frequency="2" maturity="2033-08-15"'
    off_curve = value(
        f'<Task id="b" type="FixedRateBond"><Bond {terms}/>'
        f'<DiscountCurve h:result="curves/c"/></Task>', curve,
    )
    ytm = off_curve.get("yieldToMaturity")
    at_yield = value(f'<Task id="b" type="FixedRateBond"><Bond {terms} yield="{ytm}"/></Task>')
    assert number(at_yield, "dirtyPrice") == pytest.approx(
        number(off_curve, "dirtyPrice"), rel=1e-9
    )


# -- InterestRateSwap ---------------------------------------------------------------------------


SWAP = (
    '<Task id="s" type="InterestRateSwap"><Swap side="{side}" notional="10000000" '
    'fixedRate="{rate}" tenor="5Y" fixedFrequency="1"/><DiscountCurve h:result="curves/c"/></Task>'
)
SLOPED_CURVE = ("curves", [
    '<Task id="c" type="DiscountCurve"><Deposit tenor="6M" rate="0.04"/>'
    '<ZeroRate tenor="2Y" rate="0.035"/><ZeroRate tenor="10Y" rate="0.042"/></Task>'
])


def test_a_swap_at_its_par_rate_is_worth_nothing():
    swap = value(SWAP.format(side="payFixed", rate="0.05"), SLOPED_CURVE)
    at_par = value(SWAP.format(side="payFixed", rate=swap.get("parRate")), SLOPED_CURVE)
    assert abs(number(at_par, "value")) < 1e-4  # on 10 million
    assert number(swap, "value") == pytest.approx(
        1e7 * number(swap, "annuity") * (number(swap, "parRate") - 0.05), rel=1e-9
    )


def test_the_swap_par_rate_on_a_flat_curve():
    rate = 0.04
    swap = value(SWAP.replace("curves/c", "curves/flat").format(side="receiveFixed", rate="0.03"),
                 flat_curve(rate))
    dates = ["2026-11-24", "2027-11-24", "2028-11-24", "2029-11-24", "2030-11-24", "2031-11-24"]
    annuity = sum(
        years(start, end) * math.exp(-rate * years(VALUATION_DATE, end))
        for start, end in zip(dates, dates[1:])
    )
    par = (1 - math.exp(-rate * years(VALUATION_DATE, dates[-1]))) / annuity
    assert number(swap, "annuity") == pytest.approx(annuity, rel=1e-11)
    assert number(swap, "parRate") == pytest.approx(par, rel=1e-11)
    assert number(swap, "value") == pytest.approx(1e7 * annuity * (0.03 - par), rel=1e-9)


# -- Aggregate ----------------------------------------------------------------------------------


PRICING = ("pricing", [
    '<Task id="call" type="EuropeanOption"><Option kind="call" spot="42" strike="40" rate="0.1" '
    'volatility="0.2" years="0.5" quantity="100"/></Task>',
    '<Task id="bond" type="FixedRateBond"><Bond coupon="0.05" yield="0.05" frequency="2" '
    'maturity="2031-11-24" notional="1000"/></Task>',
])


def test_an_aggregate_sums_the_weighted_values_it_references():
    pricing = run_groups(PRICING)["pricing"]
    call, bond = number(pricing["call"], "value"), number(pricing["bond"], "value")
    book = value(
        '<Task id="book" type="Aggregate"><Component h:result="pricing/*"/>'
        '<Component h:result="pricing/call" weight="-0.5"/></Task>',
        PRICING,
    )
    assert number(book, "value") == pytest.approx(call + bond - 0.5 * call, rel=1e-11)
    components = book.findall(f"{{{NS}}}Component")
    assert [(c.get("ref"), c.get("weight")) for c in components] == [
        ("pricing/call", "1"), ("pricing/bond", "1"), ("pricing/call", "-0.5")
    ]


def test_a_portfolio_without_references_sums_the_group_before():
    pricing = run_groups(PRICING)["pricing"]
    book = value('<Task id="book" type="Portfolio"/>', PRICING)
    assert book.tag == f"{{{NS}}}Portfolio"
    assert book.get("components") == "2"
    assert number(book, "value") == pytest.approx(
        sum(number(result, "value") for result in pricing.values()), rel=1e-11
    )


def test_an_aggregate_of_a_curve_is_refused():
    with pytest.raises(PermanentTaskError, match=r"curves/flat \(DiscountCurve\) has no value"):
        value('<Task id="book" type="Aggregate"/>', flat_curve(0.03))


# -- errors -------------------------------------------------------------------------------------


def test_an_unknown_type_is_permanent_and_names_the_known_ones():
    with pytest.raises(PermanentTaskError) as caught:
        value('<Task id="x" type="CreditDefaultSwap"/>')
    assert "'CreditDefaultSwap'" in caught.value.message
    for known in ENGINES:
        assert known in caught.value.message


@pytest.mark.parametrize(
    ("task_xml", "message"),
    [
        ('<Task id="b" type="FixedRateBond"><Bond coupon="0.05" frequency="2" yield="0.04"/>'
         '</Task>',
         "Bond/@maturity is missing"),
        ('<Task id="b" type="FixedRateBond"><Bond coupon="five" frequency="2" yield="0.04" '
         'maturity="2030-01-01"/></Task>', "Bond/@coupon='five' is not a number"),
        ('<Task id="b" type="FixedRateBond"><Bond coupon="0.05" frequency="5" yield="0.04" '
         'maturity="2030-01-01"/></Task>', "Bond/@frequency='5' must be one of"),
        ('<Task id="b" type="FixedRateBond"><Bond coupon="0.05" frequency="2" '
         'maturity="2030-01-01"/></Task>', "needs a discount curve"),
        ('<Task id="o" type="EuropeanOption"><Option kind="call" spot="42" strike="40" rate="0.1" '
         'volatility="0" years="0.5"/></Task>', "Option/@volatility='0' must be greater than 0"),
        ('<Task id="o" type="EuropeanOption" kind="straddle"/>', "Task/@kind='straddle'"),
        ('<Task id="c" type="DiscountCurve"><ZeroRate tenor="1Q" rate="0.03"/></Task>',
         "ZeroRate/@tenor"),
        ('<Task id="c" type="DiscountCurve"/>', "has no ZeroRate or Deposit quotes"),
        ('<Task id="s" type="InterestRateSwap"><Swap side="payFixed" notional="1" fixedRate="0.03" '
         'fixedFrequency="1"/></Task>', "Swap needs a maturity date or a tenor"),
    ],
)
def test_missing_or_invalid_inputs_are_permanent_and_named(task_xml, message):
    with pytest.raises(PermanentTaskError, match=re.escape(message)):
        value(task_xml)


def test_a_bond_needs_a_valuation_date():
    with pytest.raises(PermanentTaskError, match="needs a valuation date"):
        value(
            '<Task id="b" type="FixedRateBond"><Bond coupon="0.05" frequency="2" yield="0.04" '
            'maturity="2030-01-01"/></Task>',
            valuation_date=None,
        )


def test_inputs_the_formulas_cannot_take_are_permanent():
    with pytest.raises(PermanentTaskError, match="cannot be valued: math range error"):
        value('<Task id="o" type="EuropeanOption"><Option kind="call" spot="1" strike="1" '
              'volatility="0.2" years="10" rate="-1000"/></Task>')


def test_two_curves_without_a_reference_are_ambiguous():
    curves = ("curves", [
        '<Task id="a" type="DiscountCurve"><ZeroRate tenor="1Y" rate="0.03"/></Task>',
        '<Task id="b" type="DiscountCurve"><ZeroRate tenor="1Y" rate="0.04"/></Task>',
    ])
    with pytest.raises(PermanentTaskError, match="several discount curves"):
        value('<Task id="o" type="EuropeanOption"><Option kind="call" spot="1" strike="1" '
              'volatility="0.2" years="1"/></Task>', curves)
