"""The hydration passes.

A pass finds every element carrying a directive, then applies the strategies in a fixed order
(href, select, attribute-select, use-function), so a select sees what an href fetched in the same
pass. An applied directive's attribute is removed; content brought in may carry directives for
the next pass. Passes repeat while directives remain, up to a limit. `h:result` is left in place:
it is resolved when its group is prepared.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from lxml import etree

from ..settings import Settings
from ..xmlutil import HNS, NSMAP, XmlRejected, hq, parse_xml
from .errors import HydrationError
from .fetchers import CompositeFetcher, Fetch, FileFetcher, S3Fetcher
from .functions import FunctionScope, evaluate

DEFERRED = frozenset({"result"})
# The URIs an element's content was fetched through, for cycle detection; never left behind.
VIA = hq("via")
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")
_WITH_DIRECTIVES = etree.XPath("//*[@h:*]", namespaces=NSMAP)


@dataclass(frozen=True)
class HydrationContext:
    fetch: Fetch
    scope: FunctionScope
    max_passes: int
    max_fetch_bytes: int


def context_from_settings(
    settings: Settings,
    request_id: str,
    metadata: Mapping[str, str],
    received_at: datetime | None = None,
) -> HydrationContext:
    files = FileFetcher.confined_to(settings.hydration_data_roots, settings.upload_max_bytes)
    return HydrationContext(
        fetch=CompositeFetcher(
            {"file": files, "s3": S3Fetcher(settings.aws_region, settings.upload_max_bytes)}
        ),
        scope=FunctionScope(
            request_id=request_id,
            metadata=metadata,
            received_at=received_at or datetime.now(UTC),
            env_allowlist=frozenset(settings.env_function_allowlist),
        ),
        max_passes=settings.hydration_max_passes,
        max_fetch_bytes=settings.upload_max_bytes,
    )


def hydrate(tree: etree._ElementTree, context: HydrationContext) -> etree._ElementTree:
    """Apply every directive of `tree` in place; raise HydrationError naming the one that fails."""
    root = tree.getroot()
    for _ in range(context.max_passes):
        pending = _pending(root)
        if not pending:
            return tree
        for name, apply in STRATEGIES:
            attribute = hq(name)
            for element in pending:
                value = element.get(attribute)
                if value is None or not _attached(element, root):
                    continue  # applied already, or taken out of the document by a select
                try:
                    apply(element, value, root, context)
                except HydrationError as exc:
                    raise HydrationError(f'h:{name}="{value}" at {describe(element)}: {exc}') \
                        from None
                del element.attrib[attribute]
    left = _pending(root)
    if left:
        raise HydrationError(
            f"{len(left)} directive(s) remain after {context.max_passes} passes "
            f"(HYDRATION_MAX_PASSES), the first at {describe(left[0])}"
        )
    return tree


# -- strategies -------------------------------------------------------------------------------

def _href(element: etree._Element, uri: str, root: etree._Element, context: HydrationContext):
    chain = element.attrib.pop(VIA, "").split()
    if uri in chain:
        raise HydrationError(f"cycle: {' -> '.join([*chain, uri])}")
    try:
        fetched = parse_xml(context.fetch(uri), max_bytes=context.max_fetch_bytes).getroot()
    except XmlRejected as exc:
        raise HydrationError(f"the fetched document is refused: {exc}") from None
    via = " ".join([*chain, uri])
    for nested in fetched.xpath("descendant-or-self::*[@h:href]", namespaces=NSMAP):
        nested.set(VIA, via)
    element.append(fetched)


def _select(element: etree._Element, expression: str, root: etree._Element, _: HydrationContext):
    selected = _evaluate(expression, root)
    if not selected:
        raise HydrationError("the XPath selects nothing")
    ancestors = {id(node) for node in element.iterancestors()} | {id(element)}
    if any(id(node) in ancestors for node in selected if isinstance(node, etree._Element)):
        raise HydrationError("cycle: the XPath selects the element itself or an ancestor")
    copies = [copy.deepcopy(node) if isinstance(node, etree._Element) else str(node)
              for node in selected]
    for child in list(element):
        element.remove(child)
    element.text = None
    for item in copies:
        if isinstance(item, str):
            _append_text(element, item)
        else:
            item.tail = None
            element.append(item)


def _attribute_select(
    element: etree._Element, assignments: str, root: etree._Element, _: HydrationContext
):
    for assignment in filter(str.strip, assignments.split(";")):
        name, _sep, expression = (part.strip() for part in assignment.partition("="))
        if not _ATTRIBUTE_NAME.match(name) or not expression:
            raise HydrationError(f"{assignment.strip()!r} must be attribute=XPath")
        selected = _evaluate(expression, root)
        if not selected:
            raise HydrationError(f"the XPath for {name!r} selects nothing")
        element.set(name, _string_value(selected[0]))


def _use_function(
    element: etree._Element, expression: str, root: etree._Element, context: HydrationContext
):
    element.text = evaluate(expression, context.scope)


Strategy = Callable[[etree._Element, str, etree._Element, HydrationContext], None]
STRATEGIES: tuple[tuple[str, Strategy], ...] = (
    ("href", _href),
    ("select", _select),
    ("attribute-select", _attribute_select),
    ("use-function", _use_function),
)
KNOWN = DEFERRED | {name for name, _ in STRATEGIES} | {etree.QName(VIA).localname}


# -- helpers ----------------------------------------------------------------------------------

def _pending(root: etree._Element) -> list[etree._Element]:
    """Elements with a directive to apply now, in document order; unknown directives are errors."""
    pending = []
    for element in _WITH_DIRECTIVES(root):
        names = {
            etree.QName(key).localname for key in element.attrib if key.startswith(f"{{{HNS}}}")
        }
        unknown = names - KNOWN
        if unknown:
            raise HydrationError(
                f"unknown directive h:{sorted(unknown)[0]} at {describe(element)}"
            )
        if names - DEFERRED:
            pending.append(element)
    return pending


@lru_cache(maxsize=1024)
def _compiled(expression: str) -> etree.XPath:
    try:
        return etree.XPath(expression, namespaces=NSMAP)
    except etree.XPathSyntaxError as exc:
        raise HydrationError(f"invalid XPath: {exc}") from None


def _evaluate(expression: str, root: etree._Element) -> list:
    try:
        result = _compiled(expression)(root)
    except etree.XPathEvalError as exc:
        raise HydrationError(f"invalid XPath: {exc}") from None
    return result if isinstance(result, list) else [result]


def _string_value(node: object) -> str:
    if isinstance(node, etree._Element):
        return "".join(node.itertext())
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, float):
        return str(int(node)) if node.is_integer() else repr(node)
    return str(node)


def _append_text(element: etree._Element, text: str) -> None:
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


def _attached(element: etree._Element, root: etree._Element) -> bool:
    ancestors = list(element.iterancestors())
    return (ancestors[-1] if ancestors else element) is root


def describe(element: etree._Element) -> str:
    """A readable path to `element`, e.g. /ValuationRequest/Group[@name='g']/Task[@id='t1']/Curve
    (line 7)."""
    steps = []
    for node in (*reversed(list(element.iterancestors())), element):
        step = etree.QName(node).localname
        for key in ("id", "name"):
            if node.get(key):
                step += f"[@{key}='{node.get(key)}']"
                break
        else:
            parent = node.getparent()
            siblings = [s for s in parent if s.tag == node.tag] if parent is not None else [node]
            if len(siblings) > 1:
                step += f"[{siblings.index(node) + 1}]"
        steps.append(step)
    return "/" + "/".join(steps) + (f" (line {element.sourceline})" if element.sourceline else "")
