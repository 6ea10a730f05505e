"""Limits that fit CAP, checked by a cheap streaming pass before any schema work, and CAP XML
read in the process pool so the event loop (which also answers the silent SOS) keeps turning.

Issue 18: eight anonymous validations of a 600 kB document of 60,000 attributes held SOS answers
up to 2.3 s. Such documents are now refused, naming the limit, after a scan of milliseconds.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.alerts.helpers import SHARED_CAP, shift_dates
from tests.factories import login
from tocsin.alerts import api, cap, validate
from tocsin.core.auth.roles import Role
from tocsin.core.offload import Lane, Offload

XML = {"Content-Type": "application/cap+xml"}
NS = cap.CAP12_NS
VALID = ["earthquake.cap", "weather.cap", "no_optional_fields.cap"]


def attributes(count: int, per_element: int = 100) -> bytes:
    """An <alert> whose empty children carry ``count`` attributes in all."""
    children = []
    for start in range(0, count, per_element):
        names = " ".join(f'a{j}=""' for j in range(min(per_element, count - start)))
        children.append(f"<x {names}/>")
    return f'<alert xmlns="{NS}">{"".join(children)}</alert>'.encode()


def issue_18_document() -> bytes:
    """The measured attack: about 600 kB, 60,000 attributes on one element."""
    names = " ".join(f'a{j}=""' for j in range(60_000))
    doc = f'<alert xmlns="{NS}"><x {names}/></alert>'.encode()
    return doc + b" " * max(0, 600_000 - len(doc))


def nested(depth: int) -> bytes:
    return f'<alert xmlns="{NS}">'.encode() + b"<a>" * depth + b"</a>" * depth + b"</alert>"


def with_area(extra: str) -> bytes:
    """The weather sample (CAP 1.1, valid) with ``extra`` added to its first <area>."""
    doc = (SHARED_CAP / "weather.cap").read_bytes().decode()
    return doc.replace("</area>", extra + "</area>", 1).encode()


def geocodes(count: int) -> bytes:
    """A valid message as heavy as the limits allow: ``count`` geocodes (3 elements each)."""
    one = "<geocode><valueName>FIPS6</valueName><value>{:06d}</value></geocode>"
    return with_area("".join(one.format(i) for i in range(count)))


def _error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


# --- the streaming pass ----------------------------------------------------------------------


def test_sixty_thousand_attributes_are_refused_by_the_scan_naming_the_limit() -> None:
    doc = issue_18_document()
    start = time.perf_counter()
    with pytest.raises(validate.LimitExceeded) as refused:
        validate.examine(doc, validate.Limits(max_bytes=1_000_000))  # past the bytes limit
    elapsed = time.perf_counter() - start
    assert refused.value.status == 422
    assert refused.value.details["limit"] == "attributes"
    assert f"attributes limit of a CAP message is {validate.MAX_ATTRIBUTES}" in str(refused.value)
    assert elapsed < 0.5, elapsed  # one pass of expat, no tree, no schema (measured ~60 ms)
    # With the real limits the same document is not even scanned: it is over the bytes.
    with pytest.raises(validate.TooLarge) as too_big:
        validate.examine(doc)
    assert too_big.value.status == 413 and too_big.value.details["limit"] == "bytes"


@pytest.mark.parametrize(("doc", "limit"), [
    (attributes(validate.MAX_ATTRIBUTES + 1), "attributes"),
    (nested(validate.MAX_DEPTH + 1), "depth"),
    (f'<alert xmlns="{NS}">'.encode() + b"<a/>" * validate.MAX_ELEMENTS + b"</alert>", "elements"),
    (with_area(f"<altitude>{'1' * (validate.MAX_TEXT + 1)}</altitude>"), "text"),
], ids=["attributes", "depth", "elements", "text"])
def test_each_limit_is_named(doc: bytes, limit: str) -> None:
    with pytest.raises(validate.LimitExceeded) as refused:
        validate.examine(doc)
    assert refused.value.details["limit"] == limit
    assert f"{limit} limit" in refused.value.message
    # The CLI's check lists the same refusal as a problem, with its place.
    report = validate.check(doc)
    assert not report.ok and len(report.problems) == 1
    assert f"{limit} limit" in report.problems[0].message
    assert report.problems[0].location.startswith("line ")


def test_limits_are_not_off_by_one() -> None:
    for doc in (attributes(validate.MAX_ATTRIBUTES), nested(validate.MAX_DEPTH - 1),
                f'<alert xmlns="{NS}">'.encode() + b"<a/>" * (validate.MAX_ELEMENTS - 1)
                + b"</alert>"):
        report = validate.examine(doc)  # not refused by a limit: the schema speaks
        assert report.problems and "limit" not in report.problems[0].message


def test_an_embedded_resource_may_be_longer_than_a_text() -> None:
    data = "QUJD" * (validate.MAX_TEXT // 4 + 100)
    resource = (f"<resource><resourceDesc>map</resourceDesc><mimeType>image/png</mimeType>"
                f"<derefUri>{data}</derefUri></resource>")
    doc = (SHARED_CAP / "weather.cap").read_bytes().decode()
    doc = doc.replace("<area>", resource + "<area>", 1)
    report = validate.examine(doc.encode())
    assert report.ok, report.problems
    assert report.alert is not None and report.alert.infos[0].resources[0].deref_uri == data


def test_heaviest_valid_message_within_the_limits_is_accepted() -> None:
    doc = geocodes(1_600)
    assert len(doc) < validate.MAX_BYTES
    report = validate.examine(doc)
    assert report.ok, report.problems[:3]
    assert len(report.alert.infos[0].areas[0].geocodes) == 1_602  # type: ignore[union-attr]


def test_attacks_are_still_refused_before_any_limit_or_tree() -> None:
    laughs = (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY l "lol">]>'
              + f'<alert xmlns="{NS}">'.encode() + b"<a/>" * 10_000 + b"</alert>")
    report = validate.check(laughs)
    assert "refused" in report.problems[0].message


# --- schema loaded once per pool process ----------------------------------------------------


def schema_loads() -> tuple[int, int]:
    """(loads, uses) of the XSD in the pool process that runs this."""
    info = validate.schema.cache_info()
    return info.misses, info.hits + info.misses


def test_schema_is_loaded_once_per_pool_process() -> None:
    offload = Offload()
    lane = Lane("test.cap")
    sample = (SHARED_CAP / "earthquake.cap").read_bytes()

    async def scenario() -> tuple[list[bool], tuple[int, int]]:
        reports = [await offload.run(lane, validate.examine, sample) for _ in range(3)]
        return [r.ok for r in reports], await offload.run(lane, schema_loads)

    try:
        oks, (loads, uses) = asyncio.run(scenario())
    finally:
        offload.close()
    assert oks == [True, True, True]
    assert (loads, uses) == (1, 3)


# --- over HTTP, both modes ------------------------------------------------------------------


def test_validate_refuses_attribute_flood_quickly_naming_the_limit(client: TestClient) -> None:
    warm = client.post("/api/v1/alerts/validate", content=(SHARED_CAP / "weather.cap").read_bytes(),
                       headers=XML)  # starts the pool
    assert warm.status_code == 200 and warm.json()["valid"] is True
    flood = attributes(30_000)  # as many as fit under the bytes limit
    assert len(flood) < validate.MAX_BYTES
    start = time.perf_counter()
    r = client.post("/api/v1/alerts/validate", content=flood, headers=XML)
    elapsed = time.perf_counter() - start
    assert r.status_code == 422, r.text
    error = _error(r)
    assert error["code"] == "cap_limit_exceeded"
    assert error["details"]["limit"] == "attributes"
    assert "attributes limit" in error["message"]
    assert elapsed < 2, elapsed


def test_issue_18_document_is_refused_as_too_large(client: TestClient) -> None:
    r = client.post("/api/v1/alerts/validate", content=issue_18_document(), headers=XML)
    assert r.status_code == 413, r.text
    assert _error(r)["details"] == {"limit": "bytes", "max": validate.MAX_BYTES,
                                    "location": "document"}
    assert f"bytes limit of a CAP message is {validate.MAX_BYTES}" in _error(r)["message"]


def test_too_deep_and_oversize_over_http(client: TestClient) -> None:
    r = client.post("/api/v1/alerts/validate", content=nested(1_000), headers=XML)
    assert r.status_code == 422 and _error(r)["details"]["limit"] == "depth"
    assert "depth limit" in _error(r)["message"]

    def chunked() -> Any:  # no Content-Length: refused while reading, past the limit
        for _ in range(validate.MAX_BYTES // 4096 + 2):
            yield b" " * 4096

    r = client.post("/api/v1/alerts/validate", content=chunked(), headers=XML)
    assert r.status_code == 413 and _error(r)["details"]["limit"] == "bytes"


def test_import_applies_the_same_limits_and_stores_nothing(client: TestClient) -> None:
    a = login(client, Role.authority)
    for doc, status, limit in ((attributes(30_000), 422, "attributes"),
                               (nested(100), 422, "depth"),
                               (issue_18_document(), 413, "bytes")):
        r = client.post("/api/v1/alerts/import", content=doc, headers={**a, **XML})
        assert r.status_code == status, r.text
        assert _error(r)["details"]["limit"] == limit
    assert client.get("/api/v1/alerts/queue", headers=a).json()["alerts"] == []
    r = client.post("/api/v1/alerts/import", content=shift_dates(geocodes(1_000)),
                    headers={**a, **XML})
    assert r.status_code == 201, r.text


def test_valid_samples_still_validate(client: TestClient) -> None:
    for name in VALID:
        r = client.post("/api/v1/alerts/validate", content=(SHARED_CAP / name).read_bytes(),
                        headers=XML)
        assert r.status_code == 200 and r.json()["valid"] is True, (name, r.text)
    r = client.post("/api/v1/alerts/validate", content=(SHARED_CAP / "invalid.cap").read_bytes(),
                    headers=XML)
    assert r.status_code == 200 and r.json()["valid"] is False
    assert r.json()["problems"][0]["location"] == "line 9"


def test_event_loop_keeps_turning_during_validations(client: TestClient) -> None:
    """Five of the heaviest valid messages at once, on the worker's own loop: a timer ticking
    every 5 ms is never held up as long as reading one of them costs (the XML and schema work
    is in the pool, niced)."""
    heavy = geocodes(1_600)
    costs = []
    for _ in range(3):
        start = time.perf_counter()
        validate.examine(heavy)
        costs.append(time.perf_counter() - start)
    cost = sorted(costs)[1]  # what one would hold the loop for, read there (~20-80 ms here)
    jobs = api.VALIDATE_LANE.concurrency + api.VALIDATE_LANE.waiting
    app = client.app

    async def scenario() -> tuple[list[int], list[float]]:
        gaps: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.005)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            await http.post("/api/v1/alerts/validate", content=heavy, headers=XML)  # warm
            tick = asyncio.create_task(ticker())
            answers = await asyncio.gather(*(
                http.post("/api/v1/alerts/validate", content=heavy, headers=XML)
                for _ in range(jobs)))
            done.set()
            await tick
        return [a.status_code for a in answers], gaps

    assert client.portal is not None
    # Read on the loop, the requests would hold it for ``jobs * cost`` in all, in stretches of
    # ``cost`` or more, on every try. From the pool the waits are the small HTTP work and the
    # machine's noise (measured 10-40 ms on 2 busy cores, against a cost of 16-80 ms). The bar
    # is half of what the loop would lose: with a cost of 16 ms, two ticks of 9 ms (noise) once
    # summed past a bar of one cost. Another process taking both cores at that moment can add a
    # stretch of its own, so the best of three tries is read.
    tries = []
    for _ in range(3):
        gc.collect()
        gc.freeze()  # the test process's own full collections (a large heap) are not the loop's
        try:
            statuses, gaps = client.portal.call(scenario)
        finally:
            gc.unfreeze()
        assert statuses == [200] * jobs
        late = sum(g for g in gaps if g > cost / 2)
        tries.append((late, sorted(gaps)[-jobs:]))
        if late < jobs * cost / 2:
            break
    assert min(late for late, _ in tries) < jobs * cost / 2, (tries, cost, jobs)
