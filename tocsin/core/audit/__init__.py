"""Append-only audit log: who did or read what, when, and why."""

from __future__ import annotations

from tocsin.core.audit.service import record, record_read

__all__ = ["record", "record_read"]
