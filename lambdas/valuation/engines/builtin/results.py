"""Writing result elements: urn:valuation:1, named after the task type, numbers to 12 digits."""

from __future__ import annotations

from datetime import date

from lxml import etree

from ...xmlutil import NS, q

Value = str | float | int | date | None


def number(value: float) -> str:
    """12 significant digits: beyond any input's precision, free of binary noise (0.1+0.2)."""
    text = f"{value:.12g}"
    return "0" if text == "-0" else text


def _attribute(value: Value) -> str:
    if isinstance(value, float):
        return number(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def set_attributes(element: etree._Element, attributes: dict[str, Value]) -> etree._Element:
    """Set each attribute in order; a None value leaves that attribute out."""
    for name, value in attributes.items():
        if value is not None:
            element.set(name, _attribute(value))
    return element


def result_element(name: str, attributes: dict[str, Value]) -> etree._Element:
    return set_attributes(etree.Element(q(name), nsmap={None: NS}), attributes)


def child(parent: etree._Element, name: str, attributes: dict[str, Value]) -> etree._Element:
    return set_attributes(etree.SubElement(parent, q(name)), attributes)
