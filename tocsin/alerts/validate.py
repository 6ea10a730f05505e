"""Hardened reading and validation of CAP messages: schema *and* the rules the schema misses.

Untrusted XML is read in two guarded passes. First a streaming ``defusedxml`` (expat) pass that
builds no tree refuses any DTD, entity declaration or external reference outright, so entity
expansion ("billion laughs"), external entities (XXE) and DTD fetches never start, and stops at
once when the document passes a limit that fits CAP (``Limits``: bytes, elements, attributes,
depth, size of one text). Only then does lxml parse with ``resolve_entities=False``,
``no_network=True``, ``load_dtd=False`` and ``huge_tree=False`` to get line numbers and validate
against the official OASIS schema shipped in ``data/cap12.xsd``.

Why these limits: a real CAP message is a few kB, about a hundred elements at most five deep, and
uses no attributes at all (only an XML signature, ``<Signature>``, has a few). Without them a
600 kB document of 60,000 attributes cost 0.1-0.3 s of parsing and schema work (eight of them
held the event loop 2.3 s); now it is over the bytes, and one that fits them is refused by a scan
of milliseconds. A limit passed is a ``LimitExceeded`` (413 for the bytes, 422 for the shape) that
names the limit; :func:`check` (the CLI) lists it as a problem instead.

CAP 1.1 (and 1.0) messages are read by moving their elements into the 1.2 namespace, as the
google/cap-library does: 1.2 is a superset apart from the deprecated certainty "Very Likely"
(read as "Likely", CAP 1.2 Appendix A).

Checks the schema cannot express (OASIS CAP 1.2 §3.2):
- §3.2.1 identifier and sender: no spaces, commas, ``<`` or ``&``;
- §3.2.1 references: whitespace-separated ``sender,identifier,sent`` triples; an Update or a
  Cancel must have them; scope Restricted needs ``restriction``, Private needs ``addresses``;
- §3.2.2 expires after sent (and after effective / onset when given);
- §3.2.4 polygon: at least four ``lat,lon`` pairs, first equals last; circle ``lat,lon radius``
  with a radius of 0 km or more.

Every problem is listed with its location (line and element path); nothing raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException
from lxml import etree

from tocsin.alerts import cap, geo
from tocsin.core.errors import DomainError

SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "cap12.xsd"
#: Bytes of one CAP message: text messages are a few kB; room for a detailed polygon and a small
#: resource embedded in ``<derefUri>`` (base64).
MAX_BYTES = 256 * 1024
#: Elements: ~15 for a minimal message, ~60 for a USGS earthquake, a few hundred for a message
#: listing many geocodes in several languages.
MAX_ELEMENTS = 5_000
#: Attributes: the CAP schema declares none; an XML signature uses a dozen or so.
MAX_ATTRIBUTES = 200
#: Nesting: CAP goes 5 deep (alert/info/area/geocode/value), a signature about 7.
MAX_DEPTH = 32
#: Characters of one text node (a polygon of ~3,000 points, a long description); ``derefUri``,
#: an embedded resource, is bounded by ``MAX_BYTES`` only.
MAX_TEXT = 64 * 1024
OLD_NAMESPACES = {
    "urn:oasis:names:tc:emergency:cap:1.1": "1.1",
    "urn:oasis:names:tc:emergency:cap:1.0": "1.0",
}
_N = "{" + cap.CAP12_NS + "}"
_FORBIDDEN_ID = re.compile(r"[\s,<&]")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a message, and where."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class LimitExceeded(DomainError):
    """The document passes one of the limits: refused before any schema work (422)."""

    status = 422
    code = "cap_limit_exceeded"


class TooLarge(LimitExceeded):
    """The document is over ``MAX_BYTES`` (413)."""

    status = 413
    code = "payload_too_large"


def _exceeded(limit: str, maximum: int, location: str, what: str) -> LimitExceeded:
    cls = TooLarge if limit == "bytes" else LimitExceeded
    return cls(
        f"{what}: the {limit} limit of a CAP message is {maximum}",
        details={"limit": limit, "max": maximum, "location": location},
    )


def too_large(max_bytes: int = MAX_BYTES) -> TooLarge:
    """The refusal of a document over ``max_bytes`` (raised by the routes while reading it)."""
    error = _exceeded("bytes", max_bytes, "document", f"larger than {max_bytes} bytes")
    assert isinstance(error, TooLarge)
    return error


@dataclass(frozen=True)
class Limits:
    """What a CAP document may hold; checked by a streaming pass before any schema work."""

    max_bytes: int = MAX_BYTES
    elements: int = MAX_ELEMENTS
    attributes: int = MAX_ATTRIBUTES
    depth: int = MAX_DEPTH
    text: int = MAX_TEXT


class _Screen:
    """An expat target that builds nothing: counts, and raises at the first limit passed."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.elements = self.attributes = self.depth = self.text = 0
        self.tag = ""
        self.parser: safe_et.DefusedXMLParser | None = None

    def _where(self) -> str:
        expat = getattr(self.parser, "parser", None)
        line = getattr(expat, "CurrentLineNumber", None)
        return f"line {line}" if line else "document"

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        limits = self.limits
        self.elements += 1
        self.depth += 1
        self.attributes += len(attrib)
        self.tag, self.text = tag, 0
        if self.elements > limits.elements:
            raise _exceeded("elements", limits.elements, self._where(),
                            f"more than {limits.elements} elements")
        if self.attributes > limits.attributes:
            raise _exceeded("attributes", limits.attributes, self._where(),
                            f"more than {limits.attributes} attributes")
        if self.depth > limits.depth:
            raise _exceeded("depth", limits.depth, self._where(),
                            f"elements nested more than {limits.depth} deep")

    def end(self, tag: str) -> None:
        self.depth -= 1
        self.tag, self.text = "", 0  # text after an end tag is not the element's: limited

    def data(self, text: str) -> None:
        self.text += len(text)
        if self.text > self.limits.text and not self.tag.endswith("derefUri"):
            name = self.tag.rpartition("}")[2]
            raise _exceeded("text", self.limits.text, self._where(),
                            f"a text of more than {self.limits.text} characters in <{name}>")

    def close(self) -> None:
        return None


@dataclass
class CapReport:
    """The verdict on one document: problems (empty when valid) and, if valid, the message."""

    problems: list[Problem] = field(default_factory=list)
    alert: cap.CapAlert | None = None
    version: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and self.alert is not None


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    """Load the OASIS CAP 1.2 schema (once) with the same hardened parser."""
    parser = _parser()
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH), parser))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
        collect_ids=False,
    )


def check(data: bytes | str, *, max_bytes: int = MAX_BYTES) -> CapReport:
    """Parse and validate one CAP document; return every problem found, or the message.

    A limit passed is listed as the only problem (see :func:`examine` to have it raised).
    """
    try:
        return examine(data, limits=Limits(max_bytes=max_bytes))
    except LimitExceeded as exc:
        location = exc.details.get("location", "document") if exc.details else "document"
        return CapReport([Problem(str(location), exc.message)])


def examine(data: bytes | str, limits: Limits | None = None) -> CapReport:
    """Like :func:`check`, but raise ``LimitExceeded`` (a 4xx naming the limit) when a limit is
    passed. CPU-heavy: routes run it in the process pool (``runtime.offload``); the result is
    plain, picklable data."""
    limits = limits or Limits()
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > limits.max_bytes:
        raise too_large(limits.max_bytes)
    if not raw.strip():
        return CapReport([Problem("document", "empty document")])
    refused = _screen(raw, limits)
    if refused is not None:
        return CapReport([refused])
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else "?"
        return CapReport([Problem(f"line {line}", f"not well-formed XML: {exc.msg}")])
    except ValueError as exc:
        return CapReport([Problem("document", f"unreadable: {exc}")])
    if not isinstance(root.tag, str) or etree.QName(root).localname != "alert":
        return CapReport([Problem("line 1", "the root element must be <alert> (CAP 1.2 §3.2.1)")])
    namespace = etree.QName(root).namespace
    version = "1.2" if namespace == cap.CAP12_NS else OLD_NAMESPACES.get(namespace or "")
    if version is None:
        return CapReport(
            [Problem("line 1", f"<alert> is in namespace {namespace!r}, not {cap.CAP12_NS}")]
        )
    if version != "1.2":
        _upgrade(root, namespace or "")
    report = CapReport(version=version)
    xsd = schema()
    if not xsd.validate(root):
        for error in xsd.error_log:
            report.problems.append(Problem(f"line {error.line}", _short(error.message)))
    report.problems.extend(_rules(root))
    if not report.problems:
        try:
            report.alert = cap.from_element(root)
        except ValueError as exc:  # defensive: the checks above should make this unreachable
            report.problems.append(Problem("alert", str(exc)))
    return report


def _screen(raw: bytes, limits: Limits) -> Problem | None:
    """Stream ``raw`` through defusedxml, building nothing: refuse DTDs, entities and external
    references, raise ``LimitExceeded`` at the first limit passed, report bad XML."""
    target = _Screen(limits)
    try:
        parser = safe_et.DefusedXMLParser(
            target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        target.parser = parser
        parser.feed(raw)
        parser.close()
    except DefusedXmlException as exc:
        name = type(exc).__name__
        return Problem("document", f"refused: {name} (DTDs and entities are not allowed)")
    except ParseError as exc:
        line, column = getattr(exc, "position", ("?", "?"))
        return Problem(f"line {line}, column {column}", f"not well-formed XML: {exc}")
    except (ValueError, RecursionError) as exc:
        return Problem("document", f"unreadable: {type(exc).__name__}")
    return None


def _upgrade(root: etree._Element, old_ns: str) -> None:
    old = "{" + old_ns + "}"
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith(old):
            element.tag = _N + element.tag[len(old) :]
            if element.tag == _N + "certainty" and (element.text or "").strip() == "Very Likely":
                element.text = "Likely"
    etree.cleanup_namespaces(root)


def _short(message: str | None) -> str:
    return (message or "invalid").replace("{" + cap.CAP12_NS + "}", "")


def _where(element: etree._Element) -> str:
    """Name an element by line and path, e.g. ``line 12: /alert/info[1]/area[2]/polygon[1]``."""
    parts = []
    node: etree._Element | None = element
    while node is not None:
        parent = node.getparent()
        name = etree.QName(node).localname
        if parent is None:
            parts.append(name)
        else:
            same = [c for c in parent if c.tag == node.tag]
            parts.append(f"{name}[{same.index(node) + 1}]" if len(same) > 1 else name)
        node = parent
    return f"line {element.sourceline}: /" + "/".join(reversed(parts))


def _time_of(element: etree._Element | None) -> cap.dt.datetime | None:
    if element is None or not element.text:
        return None
    try:
        return cap.parse_time(element.text)
    except ValueError:
        return None  # the schema reports the format


def _rules(root: etree._Element) -> list[Problem]:
    problems: list[Problem] = []
    for name in ("identifier", "sender"):
        el = root.find(_N + name)
        if el is not None and el.text and _FORBIDDEN_ID.search(el.text):
            problems.append(
                Problem(_where(el), f"{name} must not contain spaces, commas, '<' or '&' (§3.2.1)")
            )
    msg_type = (root.findtext(_N + "msgType") or "").strip()
    refs = root.find(_N + "references")
    if refs is not None:
        problems.extend(Problem(_where(refs), m) for m in reference_problems(refs.text or ""))
    elif msg_type in ("Update", "Cancel"):
        problems.append(
            Problem("/alert", f"a {msg_type} must name earlier messages in <references>"))
    scope = (root.findtext(_N + "scope") or "").strip()
    if scope == "Restricted" and root.find(_N + "restriction") is None:
        problems.append(Problem("/alert", "scope Restricted needs a <restriction> (§3.2.1)"))
    if scope == "Private" and root.find(_N + "addresses") is None:
        problems.append(Problem("/alert", "scope Private needs <addresses> (§3.2.1)"))
    sent = _time_of(root.find(_N + "sent"))
    for info in root.findall(_N + "info"):
        expires_el = info.find(_N + "expires")
        expires = _time_of(expires_el)
        if expires is not None and expires_el is not None:
            for label, when in (
                ("sent", sent),
                ("effective", _time_of(info.find(_N + "effective"))),
                ("onset", _time_of(info.find(_N + "onset"))),
            ):
                if when is not None and expires <= when:
                    problems.append(Problem(_where(expires_el), f"expires must be after {label}"))
        for area in info.findall(_N + "area"):
            for polygon in area.findall(_N + "polygon"):
                try:
                    geo.parse_polygon(polygon.text or "")
                except geo.GeometryError as exc:
                    problems.append(Problem(_where(polygon), str(exc)))
            for circle in area.findall(_N + "circle"):
                try:
                    geo.parse_circle(circle.text or "")
                except geo.GeometryError as exc:
                    problems.append(Problem(_where(circle), str(exc)))
    return problems


def parse_references(text: str) -> list[tuple[str, str, str]]:
    """Split ``references`` into (sender, identifier, sent) triples; see reference_problems."""
    triples = []
    for token in text.split():
        parts = token.split(",")
        if len(parts) == 3:
            triples.append((parts[0], parts[1], parts[2]))
    return triples


def reference_problems(text: str) -> list[str]:
    """List what is wrong with a ``references`` value (CAP 1.2 §3.2.1)."""
    tokens = text.split()
    if not tokens:
        return ["references is empty; expected 'sender,identifier,sent' entries"]
    problems = []
    for token in tokens:
        parts = token.split(",")
        if len(parts) != 3 or not all(parts):
            problems.append(f"reference {token[:80]!r} is not 'sender,identifier,sent'")
            continue
        try:
            cap.parse_time(parts[2])
        except ValueError:
            problems.append(f"reference {token[:80]!r}: {parts[2][:40]!r} is not a CAP dateTime")
    return problems
