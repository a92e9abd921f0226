"""FixedRateBond: a regular fixed-coupon bond priced off a discount curve or a flat yield.

Terms, on a `<Bond>` element (or the Task itself):

    coupon="0.0425"        annual coupon rate, >= 0
    maturity="2031-11-15"  redemption at 100
    frequency="2"          coupons a year: 1, 2, 3, 4, 6 or 12
    notional="5000000"     face amount (default 100; negative for a short position)
    yield="0.045"          optional: price at this flat yield instead of the referenced curve

Conventions (prices per 100 face, V the valuation date):

- Schedule: coupon dates every 12/frequency months counted back from maturity; regular periods
  only (no odd first coupon), no business-day adjustment. A coupon due on V counts as paid.
- Accrued interest, ACT/ACT (ICMA): 100 c/f * (V - previous coupon) / (next - previous coupon).
- Off a curve: dirty = sum CF_i DF(t_i), t_i = ACT/365F(V, payment date i).
- Yield (ICMA street convention, compounded f times a year): dirty = sum CF_i (1 + y/f)^-(w + i),
  i = 0, 1, ..., where w = (next - V) / (next - previous) is the part of the current period left.
  On a coupon date with y = c the bond is worth exactly 100.
- Yield to maturity: the y of that formula that reproduces the dirty price, found by bisection.
- clean = dirty - accrued; value = dirty * notional / 100 (the `value` an aggregate sums).
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from .curves import curve_for
from .dates import PAYMENT_FREQUENCIES, add_months, schedule_back_from, year_fraction
from .inputs import TaskInput, local_name
from .results import child, result_element

BISECTION_STEPS = 200


def fixed_rate_bond(inputs: TaskInput) -> etree._Element:
    terms = inputs.terms("Bond")
    valuation = inputs.valuation_date()
    coupon = inputs.number(terms, "coupon")
    if coupon < 0:
        raise inputs.fail(f"{local_name(terms)}/@coupon={coupon} must not be negative")
    maturity = inputs.date(terms, "maturity")
    frequency = int(inputs.text(terms, "frequency", choices=PAYMENT_FREQUENCIES))
    notional = inputs.number(terms, "notional", 100.0)
    if maturity <= valuation:
        raise inputs.fail(f"{local_name(terms)}/@maturity={maturity} is not after {valuation}")

    months = 12 // frequency
    payments = schedule_back_from(maturity, months, after=valuation)
    previous = add_months(payments[0], -months)
    period_left = (payments[0] - valuation).days / (payments[0] - previous).days
    coupon_amount = 100 * coupon / frequency
    amounts = [coupon_amount + (100 if day == maturity else 0) for day in payments]
    accrued = coupon_amount * (1 - period_left)

    def yield_discounts(y: float) -> list[float]:
        return [(1 + y / frequency) ** -(period_left + i) for i in range(len(payments))]

    def price_at(y: float) -> float:
        return sum(a * df for a, df in zip(amounts, yield_discounts(y)))

    if terms.get("yield") is not None:
        flat_yield = inputs.number(terms, "yield")
        if flat_yield <= -frequency:
            raise inputs.fail(
                f"{local_name(terms)}/@yield={flat_yield} must be above -frequency"
            )
        source = {"yield": flat_yield}
        discounts = yield_discounts(flat_yield)
    else:
        curve = curve_for(inputs)
        source = {"curve": curve.ref}
        discounts = [curve.discount_factor(year_fraction(valuation, day)) for day in payments]

    dirty = sum(a * df for a, df in zip(amounts, discounts))
    element = result_element("FixedRateBond", {
        "id": inputs.id,
        "valuationDate": valuation,
        "coupon": coupon,
        "frequency": frequency,
        "maturity": maturity,
        "notional": notional,
        **source,
        "previousCoupon": previous,
        "dirtyPrice": dirty,
        "cleanPrice": dirty - accrued,
        "accruedInterest": accrued,
        "yieldToMaturity": _solve_decreasing(price_at, dirty, -frequency / 2, inputs),
        "value": dirty * notional / 100,
        "cleanValue": (dirty - accrued) * notional / 100,
        "accruedAmount": accrued * notional / 100,
    })
    for day, amount, df in zip(payments, amounts, discounts):
        child(element, "CashFlow", {
            "date": day,
            "years": year_fraction(valuation, day),
            "amount": amount,
            "discountFactor": df,
            "presentValue": amount * df,
        })
    return element


def _solve_decreasing(
    price: Callable[[float], float], target: float, low: float, inputs: TaskInput
) -> float:
    """The y with price(y) = target for a price falling in y, by bisection from [low, high].

    `low` = -f/2 keeps (1 + y/f)^-n finite for any schedule; `high` doubles until it brackets.
    """
    high = 1.0
    while price(high) > target:
        high *= 2
        if high > 1e6:
            raise inputs.fail(f"no yield gives the dirty price {target}")
    if price(low) < target:
        raise inputs.fail(f"no yield above {low} gives the dirty price {target}")
    for _ in range(BISECTION_STEPS):
        middle = (low + high) / 2
        if middle in (low, high):
            break  # the interval is down to adjacent floats
        if price(middle) > target:
            low = middle
        else:
            high = middle
    return (low + high) / 2
