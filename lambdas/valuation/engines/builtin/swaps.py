"""InterestRateSwap: a fixed-for-floating swap valued off one curve (single-curve).

Terms, on a `<Swap>` element (or the Task itself):

    side="payFixed" | "receiveFixed"
    notional="10000000"  fixedRate="0.0365"
    maturity="2031-11-24" or tenor="5Y" (from the start date)
    start="2026-11-26"   default: the valuation date; never before it
    fixedFrequency="1"   fixed payments a year: 1, 2, 3, 4, 6 or 12

Conventions (V the valuation date, DF from the referenced curve at ACT/365F(V, date)):

- Fixed schedule: every 12/f months counted back from maturity; a short first period (stub)
  when the start is not on the schedule; accrual tau_i = ACT/365F between period dates.
- annuity A = sum tau_i DF(t_i); fixed leg = N K A.
- Floating leg: with one curve for projection and discounting, the floating coupons are worth
  N (DF(start) - DF(maturity)) whatever their frequency, so it needs no schedule.
- par rate = (DF(start) - DF(maturity)) / A: the fixed rate that makes the swap worth 0.
- value = floating - fixed leg for payFixed, fixed - floating for receiveFixed
  = +-N A (par rate - K).
"""

from __future__ import annotations

from datetime import date

from lxml import etree

from .curves import curve_for
from .dates import PAYMENT_FREQUENCIES, add_tenor, schedule_back_from, year_fraction
from .inputs import TaskInput, local_name
from .results import child, result_element


def interest_rate_swap(inputs: TaskInput) -> etree._Element:
    terms = inputs.terms("Swap")
    valuation = inputs.valuation_date()
    side = inputs.text(terms, "side", choices=("payFixed", "receiveFixed"))
    notional = inputs.number(terms, "notional", positive=True)
    fixed_rate = inputs.number(terms, "fixedRate")
    frequency = int(inputs.text(terms, "fixedFrequency", choices=PAYMENT_FREQUENCIES))
    start = inputs.date(terms, "start") if terms.get("start") is not None else valuation
    if start < valuation:
        raise inputs.fail(f"{local_name(terms)}/@start={start} is before the valuation date")
    maturity = _maturity(inputs, terms, start)
    curve = curve_for(inputs)

    def discount(day: date) -> float:
        return curve.discount_factor(year_fraction(valuation, day))

    payments = schedule_back_from(maturity, 12 // frequency, after=start)
    periods = list(zip([start, *payments], payments))
    annuity = sum(year_fraction(a, b) * discount(b) for a, b in periods)
    float_leg = notional * (discount(start) - discount(maturity))
    fixed_leg = notional * fixed_rate * annuity
    sign = 1 if side == "payFixed" else -1
    element = result_element("InterestRateSwap", {
        "id": inputs.id,
        "valuationDate": valuation,
        "side": side,
        "notional": notional,
        "fixedRate": fixed_rate,
        "start": start,
        "maturity": maturity,
        "fixedFrequency": frequency,
        "curve": curve.ref,
        "parRate": (discount(start) - discount(maturity)) / annuity,
        "annuity": annuity,
        "fixedLegPV": fixed_leg,
        "floatingLegPV": float_leg,
        "value": sign * (float_leg - fixed_leg),
    })
    for period_start, period_end in periods:
        child(element, "FixedPeriod", {
            "start": period_start,
            "end": period_end,
            "accrual": year_fraction(period_start, period_end),
            "discountFactor": discount(period_end),
        })
    return element


def _maturity(inputs: TaskInput, terms: etree._Element, start: date) -> date:
    if terms.get("maturity") is not None:
        maturity = inputs.date(terms, "maturity")
    elif terms.get("tenor") is not None:
        tenor = inputs.text(terms, "tenor")
        try:
            maturity = add_tenor(start, tenor)
        except ValueError as exc:
            raise inputs.fail(f"{local_name(terms)}/@tenor: {exc}") from None
    else:
        raise inputs.fail(f"{local_name(terms)} needs a maturity date or a tenor")
    if maturity <= start:
        raise inputs.fail(f"{local_name(terms)}: maturity {maturity} is not after start {start}")
    return maturity
