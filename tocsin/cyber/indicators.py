"""Indicator values: refang, classify, normalise, extract from free text, and STIX patterns.

Analysts and reporters paste indicators *defanged* so no one clicks them by mistake
(``hxxp://evil[.]com``, ``1.2.3[.]4``, ``user[@]x[.]fr``). We accept those forms, store one
canonical value per indicator (lower-case scheme and host, IDNA host names, compressed IPv6,
lower-case hex hashes) so the same indicator typed two ways is counted once, and refuse anything
that is not one of the seven kinds with a message naming the problem.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from tocsin.core.errors import Invalid

KINDS = ("url", "domain", "ipv4", "ipv6", "email", "md5", "sha1", "sha256")
HASH_LENGTHS = {32: "md5", 40: "sha1", 64: "sha256"}
MAX_VALUE = 2000

# Defanging conventions seen in CERT bulletins and on threat-sharing lists.
_REFANG = [
    (re.compile(r"\b(h[xX]{2}p|hxxp|hXXp|meow)(s?)(?=\[?:)", re.I), r"http\2"),
    (re.compile(r"\b(f[xX]p)(?=\[?:)", re.I), "ftp"),
    (re.compile(r"\[\s*:\s*\]|\(\s*:\s*\)"), ":"),
    (re.compile(r"\[\s*/\s*\]"), "/"),
    (re.compile(r"\[\s*(\.|dot)\s*\]|\(\s*(\.|dot)\s*\)|\{\s*(\.|dot)\s*\}", re.I), "."),
    (re.compile(r"\[\s*(@|at)\s*\]|\(\s*(@|at)\s*\)|\{\s*(@|at)\s*\}", re.I), "@"),
]
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^([a-z]{2,63}|xn--[a-z0-9-]{2,59})$")
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")


@dataclass(frozen=True)
class Indicator:
    """A normalised indicator value and its kind."""

    kind: str
    value: str


def refang(text: str) -> str:
    """Undo the usual defanging of URLs, host names, addresses and e-mails."""
    out = text.strip().strip("<>\"'`").strip()
    for pattern, replacement in _REFANG:
        out = pattern.sub(replacement, out)
    return out


def _domain(text: str) -> str | None:
    host = text.strip().rstrip(".").lower()
    if not host or len(host) > 253:
        return None
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return None
    labels = ascii_host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    return ascii_host if _TLD.match(labels[-1]) else None


def _ip(text: str) -> Indicator | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv4Address):
        return Indicator("ipv4", str(address))
    return Indicator("ipv6", address.compressed)


def _email(text: str) -> str | None:
    if text.count("@") != 1:
        return None
    local, _, host = text.strip().partition("@")
    domain = _domain(host)
    if domain is None or not _LOCAL.match(local) or ".." in local:
        return None
    return f"{local}@{domain}"


def _url(text: str) -> str | None:
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https", "ftp") or not parts.hostname:
        return None
    host = parts.hostname
    ip = _ip(host)
    if ip is not None:
        host_text = f"[{ip.value}]" if ip.kind == "ipv6" else ip.value
    else:
        domain = _domain(host)
        if domain is None:
            return None
        host_text = domain
    default = {"http": 80, "https": 443, "ftp": 21}[scheme]
    netloc = host_text if port in (None, default) else f"{host_text}:{port}"
    if parts.username or parts.password:
        # Credentials in a phishing URL are part of the indicator; keep them as given.
        userinfo = parts.netloc.rsplit("@", 1)[0]
        netloc = f"{userinfo}@{netloc}"
    if any(ch.isspace() for ch in text.strip()):
        return None
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def classify(raw: str, kind: str | None = None) -> Indicator:
    """Return the normalised indicator for ``raw`` (of ``kind`` if given) or raise ``Invalid``."""
    if not raw or not raw.strip():
        raise Invalid("indicator is empty")
    if len(raw) > MAX_VALUE:
        raise Invalid(f"indicator longer than {MAX_VALUE} characters")
    if kind is not None and kind not in KINDS:
        raise Invalid(f"unknown indicator kind {kind!r}; known: {', '.join(KINDS)}")
    text = refang(raw)
    found = _detect(text)
    if found is None:
        expected = f"a valid {kind}" if kind else "a URL, domain, IP address, e-mail or hash"
        raise Invalid(f"{raw.strip()[:80]!r} is not {expected}")
    if kind is not None and found.kind != kind:
        raise Invalid(f"{raw.strip()[:80]!r} is a {found.kind}, not a {kind}")
    return found


def _detect(text: str) -> Indicator | None:
    if _HEX.match(text) and len(text) in HASH_LENGTHS:
        return Indicator(HASH_LENGTHS[len(text)], text.lower())
    if "://" in text:
        url = _url(text)
        return Indicator("url", url) if url else None
    if "@" in text:
        email = _email(text)
        return Indicator("email", email) if email else None
    ip = _ip(text)
    if ip is not None:
        return ip
    if _HEX.match(text):
        return None  # hex of a length no hash has: not a domain either
    domain = _domain(text)
    return Indicator("domain", domain) if domain else None


# Candidates in free text: defanged dots and @ included. Bare domain names are only taken with
# a defanged dot or a TLD common in campaigns: "M.Dupont" or "p.ex" in a French report is not
# an indicator, and a false indicator costs an analyst's time.
_DOT = r"(?:\.|\[\.\]|\(\.\)|\{\.\}|\[dot\])"
_URL_RE = re.compile(r"\b(?:https?|hxxps?|ftp|fxp)(?:://|\[://\]|\[:\]//)[^\s<>\"']+", re.I)
_EMAIL_RE = re.compile(
    r"[A-Za-z0-9._%+-]+(?:@|\[@\]|\(@\)|\[at\])[A-Za-z0-9-]+(?:" + _DOT + r"[A-Za-z0-9-]+)+", re.I)
_IPV4_RE = re.compile(r"\b\d{1,3}(?:" + _DOT + r"\d{1,3}){3}\b")
_IPV6_RE = re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])")
_HASH_RE = re.compile(r"\b(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{40}|[0-9a-fA-F]{32})\b")
_DOMAIN_RE = re.compile(r"\b[A-Za-z0-9-]+(?:" + _DOT + r"[A-Za-z0-9-]+)+\b")
COMMON_TLDS = frozenset(
    {"com", "net", "org", "info", "biz", "fr", "eu", "ru", "cn", "io", "xyz", "top", "online",
     "site", "club", "shop", "app", "dev", "me", "co", "tk", "ml", "ga", "cf", "gq", "pw", "cc",
     "su", "ws", "ly", "to", "be", "de", "uk", "nl", "ch", "it", "es", "pl", "ua", "kz", "ir"})


def extract(text: str, *, limit: int = 200) -> list[Indicator]:
    """Find the indicators in free text (defanged forms too), each once, in order of appearance."""
    found: dict[tuple[str, str], Indicator] = {}
    spans: list[tuple[int, int]] = []

    def take(match: re.Match[str], raw: str | None = None) -> None:
        if any(s <= match.start() < e for s, e in spans):
            return
        try:
            indicator = classify((raw or match.group(0)).rstrip(".,;:)]}!?"))
        except Invalid:
            return
        spans.append(match.span())
        found.setdefault((indicator.kind, indicator.value), indicator)

    for regex in (_URL_RE, _EMAIL_RE, _HASH_RE, _IPV4_RE, _IPV6_RE):
        for match in regex.finditer(text):
            take(match)
    for match in _DOMAIN_RE.finditer(text):
        raw = match.group(0)
        refanged = refang(raw)
        defanged = refanged != raw
        if defanged or refanged.rsplit(".", 1)[-1].lower() in COMMON_TLDS:
            take(match)
    return list(found.values())[:limit]


def _quote(value: str) -> str:
    # STIX 2.1 patterning §9.3: a string literal escapes \ and '.
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


_PATTERN_PATHS = {
    "url": "url:value",
    "domain": "domain-name:value",
    "ipv4": "ipv4-addr:value",
    "ipv6": "ipv6-addr:value",
    "email": "email-addr:value",
    "md5": "file:hashes.MD5",
    "sha1": "file:hashes.'SHA-1'",
    "sha256": "file:hashes.'SHA-256'",
}
_PATTERN_RE = re.compile(r"^\[\s*([a-z0-9-]+:[A-Za-z0-9.'_-]+)\s*=\s*'((?:[^'\\]|\\.)*)'\s*\]$")


def stix_pattern(indicator: Indicator) -> str:
    """Return the STIX 2.1 pattern matching this indicator."""
    return f"[{_PATTERN_PATHS[indicator.kind]} = {_quote(indicator.value)}]"


def from_pattern(pattern: str) -> Indicator | None:
    """Read back a single-comparison pattern of the kinds above; None for anything else."""
    match = _PATTERN_RE.match(pattern.strip())
    if match is None:
        return None
    path = match.group(1).replace('"', "'")
    value = re.sub(r"\\(.)", r"\1", match.group(2))
    for kind, known in _PATTERN_PATHS.items():
        if known == path:
            try:
                return classify(value, kind)
            except Invalid:
                return None
    return None
