"""Every table of every domain, imported so Alembic and tests see the whole schema.

A domain that adds ``models.py`` adds one import line here.
"""

from __future__ import annotations

from tocsin.alerts import models as alerts_models
from tocsin.core import outbox
from tocsin.core.audit import models as audit_models
from tocsin.core.auth import models as auth_models
from tocsin.core.auth import tickets as auth_tickets
from tocsin.core.db import Base
from tocsin.cyber import models as cyber_models
from tocsin.dispatch import models as dispatch_models
from tocsin.persons import models as persons_models
from tocsin.safety import models as safety_models
from tocsin.shelter import models as shelter_models
from tocsin.sos import models as sos_models
from tocsin.stats import models as stats_models
from tocsin.watch import models as watch_models

metadata = Base.metadata

__all__ = [
    "alerts_models",
    "audit_models",
    "auth_models",
    "auth_tickets",
    "cyber_models",
    "dispatch_models",
    "metadata",
    "outbox",
    "persons_models",
    "safety_models",
    "shelter_models",
    "sos_models",
    "stats_models",
    "watch_models",
]
