"""Web Push machinery (tocsin.core.push): RFC 8291 encryption checked by decrypting, VAPID reuse
and renewal, the retry and unsubscribe rules, HTTP/2 over verified TLS to a real receiver."""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from bench.push_receivers import make_ca
from tests.alerts.receivers import serve_h2_tls, verify_vapid
from tocsin.core import push

D = push.b64url_decode
# RFC 8291 Appendix A.
RFC_PLAINTEXT = "V2hlbiBJIGdyb3cgdXAsIEkgd2FudCB0byBiZSBhIHdhdGVybWVsb24"
RFC_AS_PRIVATE = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
RFC_UA_PRIVATE = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
RFC_UA_PUBLIC = ("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkN"
                 "toIAiw4")
RFC_SALT = "DGv6ra1nlYgDCS1FRnbzlw"
RFC_AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
RFC_MESSAGE = (
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmY"
    "WAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgS"
    "xsj_Qulcy4a-fN")


def _private(b64: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(D(b64), "big"), ec.SECP256R1())


class Browser:
    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.p256dh = push.b64url(push._raw_public(self.private.public_key()))

    def decrypt(self, body: bytes) -> bytes:
        return bytes(http_ece.decrypt(body, private_key=self.private, auth_secret=self.auth,
                                      version="aes128gcm"))


def test_rfc8291_test_vector_byte_for_byte_and_decrypted_by_the_receiver() -> None:
    body = push.encrypt(RFC_UA_PUBLIC, RFC_AUTH, D(RFC_PLAINTEXT), salt=D(RFC_SALT),
                        server_key=_private(RFC_AS_PRIVATE))
    assert push.b64url(body) == RFC_MESSAGE
    plain = http_ece.decrypt(body, private_key=_private(RFC_UA_PRIVATE), auth_secret=D(RFC_AUTH),
                             version="aes128gcm")
    assert plain == b"When I grow up, I want to be a watermelon"


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_batch_round_trip_keeps_order_and_isolates_broken_keys(kind: str) -> None:
    browsers = [Browser() for _ in range(40)]
    items = [(b.p256dh, push.b64url(b.auth), f"message {n}".encode())
             for n, b in enumerate(browsers)]
    items[7] = ("not-a-point", items[7][1], b"x")
    encryptor = push.Encryptor(kind, workers=2)
    try:
        bodies = asyncio.run(encryptor.encrypt(items))
    finally:
        encryptor.close()
    assert isinstance(bodies[7], str) and "bad subscription keys" in bodies[7]
    for n, (browser, body) in enumerate(zip(browsers, bodies, strict=True)):
        if n != 7:
            assert isinstance(body, bytes)
            assert browser.decrypt(body) == f"message {n}".encode()
    # Each message has its own ephemeral key and salt: no two headers alike.
    assert len({bytes(b[:86]) for b in bodies if isinstance(b, bytes)}) == 39
    assert encryptor.cpu_seconds > 0


def test_vapid_jwt_is_reused_per_audience_and_renewed_before_expiry() -> None:
    now = [1_000_000.0]
    key = ec.generate_private_key(ec.SECP256R1())
    signer = push.VapidSigner(key, "mailto:ops@example.org", lifetime_s=12 * 3600,
                              renew_before_s=3600, clock=lambda: now[0])
    first = signer.header("https://fcm.googleapis.com/fcm/send/abc")
    assert signer.header("https://fcm.googleapis.com/fcm/send/other") == first
    assert signer.signatures == 1
    claims, public = verify_vapid(first)
    assert claims == {"aud": "https://fcm.googleapis.com", "exp": 1_000_000 + 12 * 3600,
                      "sub": "mailto:ops@example.org"}
    assert public == signer.public_key
    mozilla = signer.header("https://updates.push.services.mozilla.com/wpush/v2/x")
    assert signer.signatures == 2
    assert verify_vapid(mozilla)[0]["aud"] == "https://updates.push.services.mozilla.com"
    now[0] += 10 * 3600  # two hours left: still reused
    assert signer.header("https://fcm.googleapis.com/fcm/send/abc") == first
    now[0] += 1.5 * 3600  # half an hour left: renewed
    renewed = signer.header("https://fcm.googleapis.com/fcm/send/abc")
    assert renewed != first and signer.signatures == 3
    assert verify_vapid(renewed)[0]["exp"] == int(now[0]) + 12 * 3600


def test_retry_and_unsubscribe_rules() -> None:
    assert push.classify(201, {}, client_errors_final=True).ok
    for status in (404, 410):
        gone = push.classify(status, {}, client_errors_final=False)
        assert gone.gone and gone.permanent and not gone.ok
    busy = push.classify(429, {"retry-after": "7"}, client_errors_final=True)
    assert not busy.permanent and busy.retry_after == 7
    later = email.utils.formatdate(time.time() + 120, usegmt=True)
    unavailable = push.classify(503, {"retry-after": later}, client_errors_final=True)
    assert not unavailable.permanent and unavailable.retry_after is not None
    assert 100 < unavailable.retry_after <= 120
    assert push.classify(500, {}, client_errors_final=True).retry_after is None
    assert push.retry_after_seconds("999999") == push.RETRY_AFTER_MAX_S
    assert push.retry_after_seconds("soon") is None
    # A push service's 400/403/413: the request is wrong, no retry; a platform's: retried.
    assert push.classify(413, {}, client_errors_final=True).permanent
    assert not push.classify(403, {}, client_errors_final=False).permanent


@pytest.fixture
def tls_files(tmp_path: Path) -> Iterator[tuple[Path, Path, Path]]:
    yield make_ca(tmp_path / "ca")


def test_pools_speak_http2_over_verified_tls_and_pause_on_retry_after(
        tls_files: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    ca, cert, key = tls_files
    browser = Browser()
    signer = push.VapidSigner(ec.generate_private_key(ec.SECP256R1()), "mailto:a@b.c")
    payload = json.dumps({"alert_id": "a1", "headline": "Abritez-vous"}).encode()

    async def scenario(base: str) -> list[push.Outcome]:
        pools = push.Pools(timeout=5, per_origin=8)
        try:
            body = push.encrypt(browser.p256dh, push.b64url(browser.auth), payload)
            out = []
            for path in ("/ok/1", "/gone/2", "/busy/3", "/busy/3"):
                url = base + path
                out.append(await pools.post(url, body, push.push_headers(signer, url,
                                                                          topic="a1"),
                                            client_errors_final=True))
            return out
        finally:
            await pools.aclose()

    with serve_h2_tls(str(cert), str(key)) as receiver:
        base = f"https://127.0.0.1:{receiver.port}"
        # Not trusted yet: the test CA is in no store.
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        refused = asyncio.run(scenario(base))[0]
        assert not refused.ok and "CERTIFICATE_VERIFY_FAILED" in refused.error
        assert receiver.requests == []
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # what an operator does for its CA
        started = time.monotonic()
        ok, gone, busy, again = asyncio.run(scenario(base))
        elapsed = time.monotonic() - started
    assert ok.ok and ok.status == 201
    assert gone.gone
    assert busy.retry_after == 1 and not busy.ok
    assert again.ok and elapsed >= 1.0  # the push service's pause was kept
    first = receiver.requests[0]
    assert first.headers[":method"] == "POST"  # only HTTP/2 has pseudo-headers
    assert first.headers["content-encoding"] == "aes128gcm"
    assert first.headers["topic"] == "a1" and first.headers["urgency"] == "high"
    assert verify_vapid(first.headers["authorization"])[0]["aud"] == base
    assert json.loads(browser.decrypt(first.body)) == {"alert_id": "a1",
                                                       "headline": "Abritez-vous"}
    assert signer.signatures == 1  # one JWT for the four requests


def test_header_blocks_decode_with_hpack_and_keep_no_server_state() -> None:
    from hpack import Decoder

    from tocsin.core.pushwire import encode_headers

    fields = [(":method", "POST"), (":scheme", "https"), (":authority", "push.example:8443"),
              (":path", "/wpush/v2/" + "x" * 300), ("content-length", "4096"),
              ("authorization", "vapid t=" + "a" * 400 + ", k=B"), ("ttl", "3600"),
              ("topic", "a1"), ("content-encoding", "aes128gcm")]
    decoder = Decoder()
    for _ in range(3):  # repeated blocks: served from the field cache, still decodable
        block = encode_headers(fields)
        assert block[0] == 0x20  # dynamic table size update to 0 opens every block
        assert [(k.decode(), v.decode()) for k, v in decoder.decode(block, raw=True)] == fields
    assert len(decoder.header_table.dynamic_entries) == 0


def test_url_split_matches_urlsplit() -> None:
    from urllib.parse import urlsplit

    from tocsin.core.pushwire import split_url

    for url in ("https://fcm.googleapis.com/fcm/send/abc?x=1#frag", "https://a.example:8443/p",
                "http://127.0.0.1:5/x/y", "https://h.example?q=1", "https://h.example",
                "https://evil.example#@push.example/x", "https://push.example/a#b/c"):
        parts = urlsplit(url)
        origin, scheme, host, port, path = split_url(url)
        assert origin == f"{parts.scheme}://{parts.netloc}" and scheme == parts.scheme
        assert host == parts.hostname and port == (parts.port or {"https": 443}.get(scheme, 80))
        assert path == (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
