from __future__ import annotations

from tocsin.cli import app

app(prog_name="tocsin")
