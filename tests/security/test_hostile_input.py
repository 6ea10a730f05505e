"""Hostile documents and uploads: refused fast, memory bounded (issue 10).

XML (CAP import and validation, PFIF import): billion laughs, quadratic blow-up, external
entities (a file, and a URL on a loopback server that counts hits), external DTDs, deep nesting,
oversize bodies. Uploads (persons photos, watch screenshots): decompression bombs (a PNG of 144
million pixels compressed to a few hundred kB), huge pixel counts announced in a GIF header,
truncated and fake images. Each over real HTTP in both modes: a 4xx naming the problem, in a
bounded time, the process's peak memory not moved by the bomb. The parsers themselves are then
measured in a fresh process (peak RSS before and after each bomb).
"""

from __future__ import annotations

import json
import resource
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from tests.factories import login
from tocsin.core.auth.roles import Role

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
PFIF_NS = "http://zesty.ca/pfif/1.4"
FAST_S = 3.0  # generous: the project VM is shared; parsing these takes milliseconds when idle
MAX_GROWTH_MB = 150


def billion_laughs(root: str, ns: str) -> bytes:
    lol = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    return (f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY l0 "lol">{lol}]>'
            f'<{root} xmlns="{ns}">&l9;</{root}>').encode()


def quadratic(root: str, ns: str) -> bytes:
    big = "A" * 50_000
    return (f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY a "{big}">]>'
            f'<{root} xmlns="{ns}">{"&a;" * 15_000}</{root}>').encode()


def external_file(root: str, ns: str) -> bytes:
    return (f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            f'<{root} xmlns="{ns}">&x;</{root}>').encode()


def external_url(root: str, ns: str, url: str) -> bytes:
    return (f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY % p SYSTEM "{url}/evil.dtd">%p;]>'
            f'<{root} xmlns="{ns}"/>').encode()


def external_dtd(root: str, ns: str, url: str) -> bytes:
    return (f'<?xml version="1.0"?><!DOCTYPE {root} SYSTEM "{url}/cap.dtd">'
            f'<{root} xmlns="{ns}"/>').encode()


def deep(root: str, ns: str, depth: int = 200_000) -> bytes:
    return (f'<{root} xmlns="{ns}">' + "<a>" * depth + "</a>" * depth + f"</{root}>").encode()


def oversize(root: str, ns: str, notes: int = 200_000) -> bytes:
    return (f'<{root} xmlns="{ns}">' + "<note>x</note>" * notes + f"</{root}>").encode()


class Hits(BaseHTTPRequestHandler):
    """A loopback server an external entity would make the parser fetch."""

    hits: list[str] = []

    def do_GET(self) -> None:
        Hits.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'<!ENTITY % e "<!ENTITY x \'stolen\'>">%e;')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hits_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hits)
    Hits.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def _documents(root: str, ns: str, url: str) -> dict[str, bytes]:
    return {
        "billion laughs": billion_laughs(root, ns), "quadratic blow-up": quadratic(root, ns),
        "external entity (file)": external_file(root, ns),
        "external parameter entity (url)": external_url(root, ns, url),
        "external DTD": external_dtd(root, ns, url), "200,000 levels deep": deep(root, ns),
        "3 MB document": oversize(root, ns),
    }


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_hostile_xml_is_refused_fast_over_http(client: TestClient, hits_url: str) -> None:
    authority = login(client, Role.authority)
    targets = [
        ("/api/v1/alerts/import", authority, "alert", CAP_NS),
        ("/api/v1/alerts/validate", {}, "alert", CAP_NS),
        ("/api/v1/persons/import", authority, "pfif", PFIF_NS),
    ]
    before = _peak_mb()
    tried = 0
    for path, headers, root, ns in targets:
        for name, doc in _documents(root, ns, hits_url).items():
            started = time.perf_counter()
            response = client.post(path, content=doc, headers={
                **headers, "Content-Type": "application/xml"})
            took = time.perf_counter() - started
            assert took < FAST_S, (path, name, took)
            assert 400 <= response.status_code < 500 or (
                path.endswith("/validate") and response.status_code == 200
                and response.json()["valid"] is False), (path, name, response.text[:300])
            assert "stolen" not in response.text and "root:" not in response.text
            tried += 1
    assert Hits.hits == [], "a parser fetched an external entity or DTD"
    assert _peak_mb() - before < MAX_GROWTH_MB
    assert tried == 21


def test_parsers_refuse_bombs_in_bounded_memory_and_time(tmp_path, hits_url: str) -> None:  # type: ignore[no-untyped-def]
    """Each parser in a fresh process: peak RSS and time for every bomb, printed and bounded."""
    for name in ("alert", "pfif"):
        ns = CAP_NS if name == "alert" else PFIF_NS
        docs = {**_documents(name, ns, hits_url), "20 MB document": oversize(name, ns, 1_450_000)}
        for label, doc in docs.items():
            (tmp_path / f"{name}-{label.replace(' ', '_')}.xml").write_bytes(doc)
    script = r"""
import json, resource, sys, time
from pathlib import Path
from tocsin.alerts import validate
from tocsin.persons import pfif
def peak(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out = {}
for path in sorted(Path(sys.argv[1]).glob("*.xml")):
    data = path.read_bytes()
    before, started = peak(), time.perf_counter()
    if path.name.startswith("alert"):
        verdict = "refused" if not validate.check(data).ok else "accepted"
    else:
        try:
            pfif.parse(data); verdict = "parsed"
        except pfif.PfifError as exc:
            verdict = "refused: " + str(exc)[:60]
    out[path.name] = [verdict, round(time.perf_counter() - started, 3), round(peak() - before, 1)]
print(json.dumps(out))
"""
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True,
                          text=True, timeout=300, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print("\nparser, document: verdict, seconds, peak RSS growth MB")
    for doc, (verdict, seconds, growth) in figures.items():
        print(f"  {doc}: {verdict}, {seconds} s, +{growth} MB")
        assert seconds < FAST_S and growth < MAX_GROWTH_MB, (doc, seconds, growth)
        if "3_MB" in doc or ("deep" in doc and doc.startswith("pfif")):
            # Within the parser's own limits (HTTP refuses both at 1 MB). Deep nesting is no
            # bomb for expat (no recursion); PFIF finds no record in it, bounded as measured.
            continue
        assert verdict.startswith("refused"), (doc, verdict)
        assert seconds < FAST_S and growth < MAX_GROWTH_MB, (doc, seconds, growth)
    assert Hits.hits == []
    assert len(figures) == 16


def _png_bomb(width: int = 12_000, height: int = 12_000) -> bytes:
    """A valid PNG of ``width`` x ``height`` black pixels: ~150 MB decoded, ~150 kB on disk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    packer = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body)
            + chunk(b"IEND", b""))


def _gif_giant() -> bytes:
    """A GIF header announcing 65,535 x 65,535 pixels (4.3 billion), with one tiny frame."""
    return (b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00\x00\x00"
            + b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


BOMBS = {
    "png decompression bomb (144 Mpx)": ("bomb.png", "image/png", _png_bomb),
    "gif header of 4.3 Gpx": ("giant.gif", "image/gif", _gif_giant),
    "truncated png": ("cut.png", "image/png", lambda: _png_bomb(64, 64)[:60]),
    "svg with script": ("x.svg", "image/svg+xml",
                        lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)'
                                b"</script></svg>"),
    "html named .jpg": ("x.jpg", "image/jpeg", lambda: b"<html><script>x</script></html>"),
}


def test_upload_bombs_are_refused(client: TestClient) -> None:
    client.post("/api/v1/watch/platforms", headers=login(client, Role.admin),
                json={"name": "forum", "display_name": "Forum"})
    before = _peak_mb()
    tried = 0
    for name, (filename, ctype, make) in BOMBS.items():
        data = make()
        assert len(data) < 900_000, name
        started = time.perf_counter()
        photo = client.post("/api/v1/persons/photos", files={"photo": (filename, data, ctype)})
        screenshot = client.post("/api/v1/watch/reports", data={
            "url": "https://forum.example/t/1", "platform": "forum", "category": "other",
            "excerpt": "capture"}, files={"screenshot": (filename, data, ctype)})
        took = time.perf_counter() - started
        assert photo.status_code in (413, 422), (name, photo.text)
        assert screenshot.status_code in (413, 422), (name, screenshot.text)
        assert took < 2 * FAST_S, (name, took)
        tried += 2
    assert _peak_mb() - before < MAX_GROWTH_MB, "an image bomb was decoded"
    assert tried == 2 * len(BOMBS)
