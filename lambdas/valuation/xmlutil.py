"""Hardened XML parsing and the namespaces of the request format (DESIGN section 5).

Every byte of XML that reaches the service goes through `parse_xml`: no DTD, no entities, no
network, no XInclude, bounded size and depth. A document that needs any of those is refused
before anything is read, fetched or expanded.
"""

from __future__ import annotations

import re

from lxml import etree

NS = "urn:valuation:1"
HNS = "urn:valuation:hydration:1"
XINCLUDE_NS = "http://www.w3.org/2001/XInclude"
NSMAP = {"v": NS, "h": HNS}

MAX_DEPTH = 256  # libxml2's own nesting limit while huge_tree is off
_POSITION_SUFFIX = re.compile(r", line \d+, column \d+$")
# A DOCTYPE can only stand in the prolog: before the root, after comments and PIs.
_PROLOG_DOCTYPE = re.compile(  # each part has one way to match: no backtracking blow-up
    rb"\A(?:\xef\xbb\xbf)?\s*"
    rb"(?:<\?(?:[^?]|\?(?!>))*\?>\s*|<!--(?:[^-]|-(?!->))*-->\s*)*"
    rb"<!DOCTYPE"
)
_DOCTYPE_REFUSED = "DOCTYPE declarations are not allowed"


def q(local: str) -> str:
    """The qualified name of an element of the request format."""
    return f"{{{NS}}}{local}"


def hq(local: str) -> str:
    """The qualified name of a hydration directive attribute."""
    return f"{{{HNS}}}{local}"


class XmlRejected(ValueError):
    """The bytes are not XML the service accepts; `line` and `column` point at the problem."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        where = f" (line {line}, column {column})" if line is not None else ""
        super().__init__(f"{message}{where}")
        self.reason = message
        self.line = line
        self.column = column


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_blank_text=False,
    )


def parse_xml(data: bytes, *, max_bytes: int | None = None) -> etree._ElementTree:
    """Parse untrusted XML, refusing DTDs, entities, XInclude and excessive size or depth."""
    if max_bytes is not None and len(data) > max_bytes:
        raise XmlRejected(f"document of {len(data)} bytes exceeds the limit of {max_bytes}")
    # A DOCTYPE carries every entity attack (external entities, expansion bombs, external DTDs).
    # The format has no use for one: refuse it before libxml2 reads any of it.
    if _PROLOG_DOCTYPE.match(data[:65536]):
        raise XmlRejected(_DOCTYPE_REFUSED)
    try:
        tree = etree.ElementTree(etree.fromstring(data, _parser()))
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        message = _POSITION_SUFFIX.sub("", exc.msg)
        raise XmlRejected(f"malformed XML: {message}", line, column) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:  # one the scan missed
        raise XmlRejected(_DOCTYPE_REFUSED)
    _check_structure(tree.getroot())
    return tree


def _check_structure(root: etree._Element) -> None:
    # Filtered by libxml2 itself: a large document costs no Python work per element. Nesting
    # depth needs no check here: without huge_tree, libxml2 refuses more than MAX_DEPTH levels.
    for node in root.iter(etree.Entity, f"{{{XINCLUDE_NS}}}*"):
        if isinstance(node, etree._Entity):
            raise XmlRejected("entity references are not allowed", node.sourceline)
        raise XmlRejected("XInclude is not allowed", node.sourceline)


def to_bytes(node: etree._Element | etree._ElementTree) -> bytes:
    return etree.tostring(node, encoding="UTF-8", xml_declaration=False)
