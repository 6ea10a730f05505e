"""An indicator an analyst entered is confirmed (and so shared over TAXII) by another analyst
(issue 19, finding 4: nothing reaches partners on one person's word)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tocsin.core.auth import Principal, Role
from tocsin.core.errors import Conflict
from tocsin.cyber import indicators as ioc
from tocsin.cyber import intel
from tocsin.cyber.schemas import IndicatorIn, IndicatorPatch

FIRST = Principal(user_id=None, username="analyste.a", role=Role.analyst)
SECOND = Principal(user_id=None, username="analyste.b", role=Role.analyst)


def test_the_analyst_who_entered_an_indicator_cannot_confirm_it(db: Session) -> None:
    row = intel.add(db, who=FIRST, data=IndicatorIn(value="evil[.]example", tlp="green"))
    with pytest.raises(Conflict, match="another analyst"):
        intel.review(db, who=FIRST, indicator_id=row.id, data=IndicatorPatch(status="confirmed"))
    assert row.status == "new" and row.reviewed_by is None
    confirmed = intel.review(db, who=SECOND, indicator_id=row.id,
                             data=IndicatorPatch(status="confirmed"))
    assert (confirmed.status, confirmed.reviewed_by) == ("confirmed", "analyste.b")


def test_an_analyst_may_still_reject_or_remark_their_own(db: Session) -> None:
    row = intel.add(db, who=FIRST, data=IndicatorIn(value="typo[.]example", tlp="amber"))
    rejected = intel.review(db, who=FIRST, indicator_id=row.id,
                            data=IndicatorPatch(status="false_positive", tlp="red"))
    assert (rejected.status, rejected.tlp) == ("false_positive", "red")


def test_an_indicator_from_a_report_is_confirmed_by_one_analyst(db: Session) -> None:
    row = intel.sight(db, ioc.classify("203.0.113[.]9", None), source="report:org")
    assert intel.review(db, who=FIRST, indicator_id=row.id,
                        data=IndicatorPatch(status="confirmed")).status == "confirmed"
