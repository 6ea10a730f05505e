from __future__ import annotations

from tocsin.cli import app

if __name__ == "__main__":  # not when a worker process imports it (tocsin.core.offload)
    app(prog_name="tocsin")
