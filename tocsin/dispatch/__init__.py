"""Dispatch: units, incident clustering, nearest-unit offers with escalation, the console stream."""
