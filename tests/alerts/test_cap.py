"""CAP parsing and validation: shipped samples, hostile XML, the rules the schema misses."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from typer.testing import CliRunner

from tests.alerts.helpers import SCHEMA, SHARED_CAP
from tocsin.alerts import cap, validate
from tocsin.cli import app as cli

VALID_SAMPLES = ["earthquake.cap", "weather.cap", "no_optional_fields.cap"]
NS = cap.CAP12_NS


def _official_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def _minimal(**parts: str) -> bytes:
    info = parts.get("info", "")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="{NS}">
  <identifier>{parts.get("identifier", "T-1")}</identifier>
  <sender>{parts.get("sender", "tests@tocsin")}</sender>
  <sent>{parts.get("sent", "2026-11-13T21:20:00+01:00")}</sent>
  <status>Actual</status>
  <msgType>{parts.get("msg_type", "Alert")}</msgType>
  <scope>Public</scope>
  {parts.get("references", "")}
  {info}
</alert>""".encode()


def _info(area: str = "", expires: str = "2026-11-14T06:00:00+01:00") -> str:
    return f"""<info><category>Security</category><event>Attaque</event>
      <urgency>Immediate</urgency><severity>Extreme</severity><certainty>Observed</certainty>
      <expires>{expires}</expires><headline>Attaque</headline>
      <area><areaDesc>Paris</areaDesc>{area}</area></info>"""


@pytest.mark.parametrize("name", VALID_SAMPLES)
def test_shipped_samples_are_valid_and_round_trip(name: str) -> None:
    report = validate.check((SHARED_CAP / name).read_bytes())
    assert report.ok, report.problems
    assert report.alert is not None
    exported = cap.to_xml(report.alert)
    assert _official_schema().validate(etree.fromstring(exported))
    again = validate.check(exported)
    assert again.ok and again.version == "1.2"
    assert again.alert == report.alert
    assert cap.from_json(cap.to_json(report.alert)) == report.alert


def test_sample_fields_survive() -> None:
    alert = validate.check((SHARED_CAP / "earthquake.cap").read_bytes()).alert
    assert alert is not None
    assert alert.identifier == "USGS-earthquakes-us2010apcd.6.20100831T000925.496Z"
    assert alert.sent == dt.datetime(2010, 8, 31, 5, 9, 25, tzinfo=dt.UTC)
    assert alert.infos[0].areas[0].circles == ["-16.053,-173.274 0.0"]
    assert len(alert.infos[0].parameters) == 12


def test_invalid_sample_is_refused_with_reasons() -> None:
    report = validate.check((SHARED_CAP / "invalid.cap").read_bytes())
    assert not report.ok
    assert any("scope" in p.message and p.location == "line 9" for p in report.problems)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE alert SYSTEM "http://127.0.0.1:9/evil.dtd">
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE a [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x"> %p;]><alert/>"""


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, XXE, EXTERNAL_DTD, PARAMETER_ENTITY],
                         ids=["billion-laughs", "xxe", "external-dtd", "parameter-entity"])
def test_hostile_xml_is_refused(doc: bytes) -> None:
    report = validate.check(doc)
    assert not report.ok
    assert report.problems and "refused" in report.problems[0].message
    assert "root:" not in str(report.problems)


def test_size_limit() -> None:
    report = validate.check(b"<alert>" + b" " * 2000 + b"</alert>", max_bytes=1000)
    assert not report.ok and "larger than" in report.problems[0].message


def test_extra_rules_each_listed_with_location() -> None:
    area = (
        "<polygon>48.85,2.32 48.87,2.33 48.86,2.37</polygon>"  # open and too short
        "<circle>48.86,2.35 -1</circle>"  # negative radius
        "<circle>48.86;2.35 1</circle>"  # not lat,lon
    )
    doc = _minimal(
        msg_type="Update",
        references="<references>tests@tocsin,T-0</references>",
        info=_info(area, expires="2026-11-13T20:00:00+01:00"),  # before sent
    )
    report = validate.check(doc)
    messages = [str(p) for p in report.problems]
    assert not report.ok
    assert any("polygon" in m and "at least 4" in m for m in messages), messages
    assert any("radius" in m and "0 or more" in m for m in messages), messages
    assert any("circle[2]" in m and "lat,lon" in m for m in messages), messages
    assert any("expires must be after sent" in m for m in messages), messages
    assert any("sender,identifier,sent" in m for m in messages), messages
    assert all(m.startswith(("line ", "/alert")) for m in messages)


def test_open_polygon_is_refused() -> None:
    area = "<polygon>48.85,2.32 48.87,2.33 48.86,2.37 48.84,2.36</polygon>"
    report = validate.check(_minimal(info=_info(area)))
    assert [p.message for p in report.problems] == [
        "polygon is not closed: the first and last points must be the same"
    ]


def test_update_without_references_and_bad_identifier() -> None:
    report = validate.check(_minimal(msg_type="Cancel", identifier="a b,c"))
    messages = " | ".join(p.message for p in report.problems)
    assert "must name earlier messages" in messages
    assert "identifier must not contain" in messages


def test_valid_update_with_references() -> None:
    refs = "<references>tests@tocsin,T-0,2026-11-13T21:00:00+01:00</references>"
    area = ("<polygon>48.85,2.32 48.87,2.33 48.86,2.37 48.85,2.32</polygon>"
            "<circle>48.86,2.35 0</circle>")
    report = validate.check(_minimal(msg_type="Update", references=refs, info=_info(area)))
    assert report.ok, report.problems
    assert validate.parse_references(report.alert.references or "") == [  # type: ignore[union-attr]
        ("tests@tocsin", "T-0", "2026-11-13T21:00:00+01:00")
    ]


def test_cli_exit_codes(tmp_path: pytest.TempPathFactory) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["cap", "validate", *(str(SHARED_CAP / n) for n in VALID_SAMPLES)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.count(": valid") == 3
    bad = runner.invoke(cli, ["cap", "validate", str(SHARED_CAP / "invalid.cap")])
    assert bad.exit_code == 1
    assert "INVALID" in bad.output and "line 9" in bad.output
    missing = runner.invoke(cli, ["cap", "validate", "/nonexistent/x.cap"])
    assert missing.exit_code == 2
    usage = runner.invoke(cli, ["cap", "validate"])
    assert usage.exit_code == 2


def _assert_total(data: bytes) -> None:
    report = validate.check(data)
    if report.ok:
        assert report.alert is not None
        assert validate.check(cap.to_xml(report.alert)).ok
    else:
        assert report.problems and all(p.location and p.message for p in report.problems)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_parser_never_crashes_on_bytes(data: bytes) -> None:
    _assert_total(data)


_sample = (SHARED_CAP / "weather.cap").read_bytes()


@settings(max_examples=150, deadline=None)
@given(st.integers(0, len(_sample) - 1), st.integers(1, 40), st.binary(max_size=40))
def test_parser_never_crashes_on_mutated_samples(at: int, cut: int, junk: bytes) -> None:
    _assert_total(_sample[:at] + junk + _sample[at + cut:])


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="0123456789.,- \n", max_size=60), st.text(max_size=30))
def test_parser_never_crashes_on_area_texts(polygon: str, circle: str) -> None:
    esc = circle.replace("&", "&amp;").replace("<", "&lt;")
    area = f"<polygon>{polygon}</polygon><circle>{esc}</circle>"
    _assert_total(_minimal(info=_info(area)))
