"""Shared kernel: settings, database, bus, auth, audit, sealing, limits. Imports no domain."""
