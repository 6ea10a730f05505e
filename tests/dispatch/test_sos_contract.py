"""Dispatch reads ``sos.created`` with the sos domain's own model (``tocsin.sos.events``).

What the producer writes is what dispatch accepts; a malformed payload is logged and dropped
(redelivering it would never help), an SOS sent "position unknown" is held aside, not crashed on.
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from tests.dispatch.factories import BATACLAN, T0, add_unit, sos_data
from tocsin.core.errors import Invalid
from tocsin.dispatch import incidents
from tocsin.dispatch.engine import DispatchEngine
from tocsin.sos.events import Situation, SosCreated


def test_the_producers_payload_maps_to_dispatchs_sos() -> None:
    payload = SosCreated(sos_id="abc", lat=48.86, lon=2.37, accuracy_m=12.5,
                         situation=Situation.hostage.value, people=3,
                         received_at=T0.isoformat()).model_dump()
    sos = incidents.from_sos_created(payload)
    assert sos == incidents.SosIn(sos_id="abc", lat=48.86, lon=2.37, accuracy_m=12.5,
                                  situation="hostage", people=3, received_at=T0)
    assert incidents.priority_of(sos.situation) == 1


def test_position_unknown_is_not_clustered() -> None:
    payload = sos_data() | {"lat": None, "lon": None, "accuracy_m": None}
    assert incidents.from_sos_created(payload) is None


@pytest.mark.parametrize(("change", "named"), [
    ({"sos_id": None}, "sos_id"),
    ({"lat": "north"}, "lat"),
    ({"received_at": None}, "received_at"),
    ({"received_at": "yesterday"}, "received_at"),
    ({"lat": None}, "half a position"),
    ({"lat": 123.0}, "out of range"),
])
def test_a_malformed_payload_is_refused_naming_the_problem(change: dict[str, object],
                                                          named: str) -> None:
    with pytest.raises(Invalid) as caught:
        incidents.from_sos_created(sos_data() | change)
    assert named in caught.value.message


def test_a_naive_time_is_read_as_utc() -> None:
    naive = T0.replace(tzinfo=None).isoformat()
    sos = incidents.from_sos_created(sos_data(received_at=T0) | {"received_at": naive})
    assert sos is not None and sos.received_at == T0.astimezone(dt.UTC)


def test_a_batch_drops_the_malformed_and_the_unlocated_and_keeps_the_rest(
        engine: DispatchEngine, caplog: pytest.LogCaptureFixture) -> None:
    add_unit(engine, "PS-11", 48.8650, 2.3700)
    good = sos_data(*BATACLAN)
    unknown = sos_data() | {"lat": None, "lon": None, "accuracy_m": None}
    broken = sos_data() | {"lat": "north"}
    with caplog.at_level(logging.ERROR, logger="tocsin.dispatch"):
        attached = engine.intake_batch([broken, unknown, good])
    assert list(attached) == [good["sos_id"]]
    assert any("dropping sos.created" in r.getMessage() and "lat" in r.getMessage()
               for r in caplog.records)
    assert engine.intake(unknown) is None


def test_a_malformed_position_is_dropped_not_crashed_on(
    engine: DispatchEngine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="tocsin.dispatch"):
        assert engine.place({"sos_id": "abc", "lat": "north", "lon": 2.3, "accuracy_m": 5.0,
                             "at": T0.isoformat()}) is None
        assert engine.place({"sos_id": "abc"}) is None
    assert sum("dropping sos.position" in r.getMessage() for r in caplog.records) == 2
    # A well-formed point of an SOS dispatch does not hold: nothing to place.
    assert engine.place({"sos_id": "unknown", "lat": 48.86, "lon": 2.37, "accuracy_m": 5.0,
                         "at": T0.isoformat()}) is None
