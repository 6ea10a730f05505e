"""The evening of 13 November 2015, replayed through Tocsin's public HTTP API.

The demo is a client: it creates accounts, units and a timeline of calls, alerts, marks, records,
offers and posts, all sent over HTTP to a running worker (or one it starts), so every run is also
an end-to-end test of the real code paths. It imports no domain package (import-linter checks it).
"""
