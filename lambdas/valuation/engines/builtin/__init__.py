"""The built-in valuation engine: real valuation mathematics in pure Python (docs/engines.md).

Only the `math` module: no numpy or QuantLib, so the Lambda bundle stays small. The task's
`type` picks the function from ENGINES; each reads its inputs from the task document and returns
a result element in urn:valuation:1 named after the type.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from ..errors import PermanentTaskError
from .aggregate import aggregate
from .bonds import fixed_rate_bond
from .curves import discount_curve
from .inputs import TaskInput
from .options import european_option
from .results import result_element
from .swaps import interest_rate_swap


def noop(inputs: TaskInput) -> etree._Element:
    """Values nothing: what the benchmarks run to measure the orchestration alone."""
    return result_element("Noop", {"id": inputs.id})


ENGINES: dict[str, Callable[[TaskInput], etree._Element]] = {
    "DiscountCurve": discount_curve,
    "FixedRateBond": fixed_rate_bond,
    "EuropeanOption": european_option,
    "InterestRateSwap": interest_rate_swap,
    "Aggregate": aggregate,
    "Portfolio": aggregate,
    "Noop": noop,
}


def evaluate(document: etree._Element) -> etree._Element:
    """Value one TaskDocument; `PermanentTaskError` for an unknown type or unusable inputs."""
    inputs = TaskInput(document)
    engine = ENGINES.get(inputs.type)
    if engine is None:
        raise PermanentTaskError(
            f"task {inputs.id!r}: unknown type {inputs.type!r}; the built-in engine knows "
            + ", ".join(sorted(ENGINES))
        )
    try:
        return engine(inputs)
    except (ArithmeticError, ValueError) as exc:
        # Inputs the checks let through but the formulas cannot take (an overflow, a log of 0):
        # the same document would fail the same way, so the failure is permanent.
        raise inputs.fail(f"cannot be valued: {exc}") from exc
