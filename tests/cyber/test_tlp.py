"""TLP markings read from bundles (1.0 ids and 2.0 definitions by name), and normalisation
properties of indicators."""

from __future__ import annotations

import stix2
from hypothesis import given
from hypothesis import strategies as st

from tocsin.core.errors import Invalid
from tocsin.cyber import indicators as ioc
from tocsin.cyber import tlp

TLP2_RED = {"type": "marking-definition", "spec_version": "2.1",
            "id": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
            "created": "2022-10-01T00:00:00.000Z", "name": "TLP:RED",
            "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                "extension_type": "property-extension", "tlp_2_0": "red"}}}
TLP2_AMBER_STRICT = {**TLP2_RED, "id": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
                     "name": "TLP:AMBER+STRICT"}


def test_levels_from_tlp1_ids_and_tlp2_names() -> None:
    defined = tlp.defined_markings([TLP2_RED, TLP2_AMBER_STRICT])
    assert set(defined.values()) == {"red", "amber"}
    assert tlp.level_of({"object_marking_refs": [stix2.TLP_GREEN.id]}, defined) == "green"
    assert tlp.level_of({"object_marking_refs": [TLP2_RED["id"]]}, defined) == "red"
    assert tlp.level_of({"object_marking_refs": [TLP2_AMBER_STRICT["id"]]}, defined) == "amber"
    # The strictest marking wins; no marking says nothing.
    both = {"object_marking_refs": [stix2.TLP_WHITE.id, stix2.TLP_RED.id]}
    assert tlp.level_of(both, {}) == "red"
    assert tlp.level_of({}, defined) is None


def test_partner_lists_round_trip() -> None:
    assert tlp.encode_partners(["cert-de", " cert-be ", "cert-de", ""]) == ",cert-be,cert-de,"
    assert tlp.decode_partners(",cert-be,cert-de,") == ["cert-be", "cert-de"]
    assert tlp.encode_partners([]) == ""


@given(st.text(max_size=80))
def test_classify_is_idempotent_or_refuses(text: str) -> None:
    try:
        found = ioc.classify(text)
    except Invalid:
        return
    assert ioc.classify(found.value) == found
    assert ioc.from_pattern(ioc.stix_pattern(found)) == found
