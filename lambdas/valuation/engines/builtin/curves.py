"""DiscountCurve: a zero curve from zero-rate and deposit quotes.

Quotes, anywhere inside the Task (typically a `<Quotes>` element hydrated from market data):

    <ZeroRate tenor="5Y" rate="0.036"/>    continuously compounded zero rate z: DF = exp(-z t)
    <Deposit tenor="3M" rate="0.0450"/>    simple money-market rate r: DF = 1 / (1 + r t)

A quote's time t is its `years` attribute, its `tenor` (nD, nW, nM, nY: see dates.py) or its
`date` (ACT/365F from the valuation date). A deposit becomes the zero rate z = ln(1 + r t) / t.

Interpolation ("linear-zero"): the zero rate is linear in t between pillars and flat before the
first and after the last pillar; DF(t) = exp(-z(t) t). The result lists the pillars:

    <DiscountCurve id=".." interpolation="linear-zero" extrapolation="flat"
                   compounding="continuous" dayCount="ACT/365F">
      <Point tenor="1Y" years="1" zeroRate="0.034" discountFactor="0.96657"/>
    </DiscountCurve>

A curve is a market object, not a position: its result has no `value`.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import NamedTuple

from lxml import etree

from ...xmlutil import q
from .dates import tenor_years, year_fraction
from .inputs import TaskInput, local_name
from .results import child, result_element

INTERPOLATION = "linear-zero"


@dataclass(frozen=True)
class Curve:
    """Zero rates at pillar times (years, ascending); `ref` names the result it came from."""

    times: tuple[float, ...]
    zero_rates: tuple[float, ...]
    ref: str = ""

    def zero_rate(self, t: float) -> float:
        if t <= self.times[0]:
            return self.zero_rates[0]
        if t >= self.times[-1]:
            return self.zero_rates[-1]
        right = bisect.bisect_right(self.times, t)
        t0, t1 = self.times[right - 1], self.times[right]
        z0, z1 = self.zero_rates[right - 1], self.zero_rates[right]
        return z0 + (z1 - z0) * (t - t0) / (t1 - t0)

    def discount_factor(self, t: float) -> float:
        return math.exp(-self.zero_rate(t) * t)


class Pillar(NamedTuple):
    key: str  # how the quote gave its time: tenor, date or years
    label: str
    years: float
    zero_rate: float


def discount_curve(inputs: TaskInput) -> etree._Element:
    pillars = sorted(_pillars(inputs), key=lambda pillar: pillar.years)
    if not pillars:
        raise inputs.fail("has no ZeroRate or Deposit quotes")
    for a, b in zip(pillars, pillars[1:]):
        if a.years == b.years:
            raise inputs.fail(
                f"quotes {a.key}={a.label} and {b.key}={b.label} fall on the same time {a.years}y"
            )
    curve = Curve(tuple(p.years for p in pillars), tuple(p.zero_rate for p in pillars))
    element = result_element("DiscountCurve", {
        "id": inputs.id,
        "valuationDate": inputs.optional_valuation_date(),
        "interpolation": INTERPOLATION,
        "extrapolation": "flat",
        "compounding": "continuous",
        "dayCount": "ACT/365F",
    })
    for pillar in pillars:
        child(element, "Point", {
            pillar.key: pillar.label,  # a quote given in years keeps the number written below
            "years": pillar.years,
            "zeroRate": pillar.zero_rate,
            "discountFactor": curve.discount_factor(pillar.years),
        })
    return element


def _pillars(inputs: TaskInput) -> list[Pillar]:
    pillars = []
    for quote in inputs.task.iter(q("ZeroRate"), q("Deposit")):
        key, label, years = _quote_time(inputs, quote)
        rate = inputs.number(quote, "rate")
        if local_name(quote) == "Deposit":
            if 1 + rate * years <= 0:
                raise inputs.fail(f"Deposit {key}={label}: rate {rate} gives no discount factor")
            rate = math.log1p(rate * years) / years
        pillars.append(Pillar(key, label, years, rate))
    return pillars


def _quote_time(inputs: TaskInput, quote: etree._Element) -> tuple[str, str, float]:
    """(tenor, date or years; its text; the time in years) of a quote."""
    if quote.get("years") is not None:
        years = inputs.number(quote, "years", positive=True)
        return "years", quote.get("years").strip(), years
    if quote.get("tenor") is not None:
        tenor = inputs.text(quote, "tenor")
        try:
            years = tenor_years(tenor)
        except ValueError as exc:
            raise inputs.fail(f"{local_name(quote)}/@tenor: {exc}") from None
        if years <= 0:
            raise inputs.fail(f"{local_name(quote)}/@tenor={tenor!r} must be longer than 0")
        return "tenor", tenor, years
    if quote.get("date") is not None:
        day = inputs.date(quote, "date")
        years = year_fraction(inputs.valuation_date(), day)
        if years <= 0:
            raise inputs.fail(f"{local_name(quote)}/@date={day} is not after the valuation date")
        return "date", day.isoformat(), years
    raise inputs.fail(f"{local_name(quote)} needs a tenor, a date or years")


def curve_for(inputs: TaskInput) -> Curve:
    """The one DiscountCurve result the task references (or, without references, carries)."""
    curves = inputs.results_of_type("DiscountCurve")
    if not curves:
        raise inputs.fail('needs a discount curve: reference one with h:result="group/task"')
    if len(curves) > 1:
        names = ", ".join(ref for ref, _ in curves)
        raise inputs.fail(f"sees several discount curves ({names}): reference one with h:result")
    ref, element = curves[0]
    return curve_from_result(inputs, ref, element)


def curve_from_result(inputs: TaskInput, ref: str, element: etree._Element) -> Curve:
    interpolation = element.get("interpolation", INTERPOLATION)
    if interpolation != INTERPOLATION:
        raise inputs.fail(f"curve {ref} uses interpolation {interpolation!r}, not {INTERPOLATION}")
    points = sorted(
        (inputs.number(point, "years", positive=True), inputs.number(point, "zeroRate"))
        for point in element.findall(q("Point"))
    )
    if not points:
        raise inputs.fail(f"curve {ref} has no Point")
    return Curve(tuple(t for t, _ in points), tuple(z for _, z in points), ref)
