"""EuropeanOption: Black-Scholes-Merton with a continuous dividend yield.

Terms, on an `<Option>` element (or the Task itself):

    kind="call" | "put"
    spot="5900"  strike="6000"  volatility="0.18"  (annual, > 0)
    expiry="2027-06-18" (T = ACT/365F from the valuation date) or years="0.5"
    dividendYield="0.013"   continuous, default 0
    rate="0.04"             continuous; without it, the referenced curve's zero rate at T
    quantity="50"           units held (default 1; negative when short)

With d1 = (ln(S/K) + (r - q + sigma^2/2) T) / (sigma sqrt T), d2 = d1 - sigma sqrt T, N the normal
distribution function and n its density:

    call = S e^-qT N(d1) - K e^-rT N(d2)          put = K e^-rT N(-d2) - S e^-qT N(-d1)
    delta: call e^-qT N(d1), put -e^-qT N(-d1)    gamma = e^-qT n(d1) / (S sigma sqrt T)
    vega = S e^-qT n(d1) sqrt T                   (per 1.00 of volatility)
    theta = -S e^-qT n(d1) sigma / (2 sqrt T) -+ r K e^-rT N(+-d2) +- q S e^-qT N(+-d1)
                                                  (per year of calendar time, upper signs: call)
    rho: call K T e^-rT N(d2), put -K T e^-rT N(-d2)   (per 1.00 of rate)

Price and greeks are per unit; value = price * quantity.
"""

from __future__ import annotations

import math

from lxml import etree

from .curves import curve_for
from .dates import year_fraction
from .inputs import TaskInput, local_name
from .results import result_element


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def normal_pdf(x: float) -> float:
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def black_scholes(
    kind: str, spot: float, strike: float, years: float, rate: float, dividend_yield: float,
    volatility: float,
) -> dict[str, float]:
    """Price and greeks of a European call or put (formulas in the module docstring)."""
    sqrt_t = math.sqrt(years)
    d1 = (math.log(spot / strike) + (rate - dividend_yield + volatility**2 / 2) * years) / (
        volatility * sqrt_t
    )
    d2 = d1 - volatility * sqrt_t
    spot_df = spot * math.exp(-dividend_yield * years)  # S e^-qT
    strike_df = strike * math.exp(-rate * years)  # K e^-rT
    sign = 1 if kind == "call" else -1
    decay = -spot_df * normal_pdf(d1) * volatility / (2 * sqrt_t)
    return {
        "price": sign * (spot_df * normal_cdf(sign * d1) - strike_df * normal_cdf(sign * d2)),
        "delta": sign * math.exp(-dividend_yield * years) * normal_cdf(sign * d1),
        "gamma": math.exp(-dividend_yield * years) * normal_pdf(d1) / (spot * volatility * sqrt_t),
        "vega": spot_df * normal_pdf(d1) * sqrt_t,
        "theta": decay
        - sign * rate * strike_df * normal_cdf(sign * d2)
        + sign * dividend_yield * spot_df * normal_cdf(sign * d1),
        "rho": sign * strike_df * years * normal_cdf(sign * d2),
    }


def european_option(inputs: TaskInput) -> etree._Element:
    terms = inputs.terms("Option")
    kind = inputs.text(terms, "kind", choices=("call", "put"))
    spot = inputs.number(terms, "spot", positive=True)
    strike = inputs.number(terms, "strike", positive=True)
    volatility = inputs.number(terms, "volatility", positive=True)
    dividend_yield = inputs.number(terms, "dividendYield", 0.0)
    quantity = inputs.number(terms, "quantity", 1.0)
    if terms.get("expiry") is not None:
        expiry = inputs.date(terms, "expiry")
        years = year_fraction(inputs.valuation_date(), expiry)
        if years <= 0:
            raise inputs.fail(
                f"{local_name(terms)}/@expiry={expiry} is not after the valuation date"
            )
    elif terms.get("years") is not None:
        expiry, years = None, inputs.number(terms, "years", positive=True)
    else:
        raise inputs.fail(f"{local_name(terms)} needs an expiry date or years")
    if terms.get("rate") is not None:
        rate, curve_ref = inputs.number(terms, "rate"), None
    else:
        curve = curve_for(inputs)
        rate, curve_ref = curve.zero_rate(years), curve.ref

    greeks = black_scholes(kind, spot, strike, years, rate, dividend_yield, volatility)
    return result_element("EuropeanOption", {
        "id": inputs.id,
        "kind": kind,
        "spot": spot,
        "strike": strike,
        "expiry": expiry,
        "years": years,
        "volatility": volatility,
        "dividendYield": dividend_yield,
        "rate": rate,
        "curve": curve_ref,
        "quantity": quantity,
        **greeks,
        "value": greeks["price"] * quantity,
    })
