"""Keep callers and secrets out of the access log: no address, no query string.

The access log is off by default (``tocsin serve``): a citizen's SOS, safety mark or search must
not leave their IP address on the server's disk, and writing a line per request costs the SOS
path about a tenth of its throughput. An operator who wants one sets ``TOCSIN_ACCESS_LOG=redacted``:
each line then has the method, the path, the status and the time, with the client address
replaced by ``-`` and the query string by ``?…`` (some GET requests must carry a secret in the
URL: a safety-mark code, a one-use stream ticket, a name searched for).
"""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"


class RedactAccess(logging.Filter):
    """Replace an access-log record's client address with ``-`` and its query with ``?…``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn: '%s - "%s %s HTTP/%s" %d' % (client, method, path_with_query, version, status)
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path = args[2]
            if "?" in path:
                path = path.split("?", 1)[0] + "?…"
            record.args = ("-", args[1], path, *args[3:])
        return True


def install() -> None:
    """Add the filter to uvicorn's access logger once per process."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactAccess) for f in logger.filters):
        logger.addFilter(RedactAccess())
