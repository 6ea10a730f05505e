"""Find the built JS and CSS of a page in the Vite manifest.

Vite writes content-hashed file names (so browsers may cache them forever) and lists them in
``static/.vite/manifest.json``; templates ask this module for the URLs of their entry instead
of hard-coding names. The manifest is re-read when its modification time changes, so
``make frontend`` during development needs no server restart.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

STATIC_DIR = Path(__file__).resolve().parent / "static"
MANIFEST_PATH = STATIC_DIR / ".vite" / "manifest.json"
STATIC_URL = "/static/"

Manifest = dict[str, dict[str, Any]]


class AssetsNotBuilt(RuntimeError):
    """The front-end has not been built (or not for this entry): run ``make frontend``."""


class AssetTags(NamedTuple):
    """URLs a page needs: its JS module and its stylesheets, in order."""

    js: str
    css: list[str]


@lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int, size: int) -> Manifest:
    # mtime_ns and size are only the cache key: a rebuilt manifest gets a new entry.
    del mtime_ns, size
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise AssetsNotBuilt(f"{path} is not a Vite manifest; run `make frontend` again")
    return data


def load_manifest(path: Path = MANIFEST_PATH) -> Manifest:
    """Return the Vite manifest, or raise :class:`AssetsNotBuilt` saying how to build it."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise AssetsNotBuilt(
            f"front-end assets are not built ({path} is missing): run `make frontend`"
        ) from None
    try:
        return _load(path, stat.st_mtime_ns, stat.st_size)
    except json.JSONDecodeError as exc:
        raise AssetsNotBuilt(f"{path} is unreadable ({exc}); run `make frontend` again") from None


def _entry_key(manifest: Manifest, entry_name: str) -> str:
    for key in (entry_name, f"src/pages/{entry_name}.ts"):
        if manifest.get(key, {}).get("isEntry"):
            return key
    raise AssetsNotBuilt(
        f"no front-end entry {entry_name!r} in the manifest: add src/pages/{entry_name}.ts "
        "to frontend/vite.config.ts and run `make frontend`"
    )


def _collect_css(manifest: Manifest, key: str, seen: set[str], out: list[str]) -> None:
    # CSS shared by several pages lands on an imported chunk, not on the entry itself.
    if key in seen:
        return
    seen.add(key)
    chunk = manifest.get(key, {})
    for imported in chunk.get("imports", []):
        _collect_css(manifest, imported, seen, out)
    for css in chunk.get("css", []):
        url = STATIC_URL + css
        if url not in out:
            out.append(url)


def asset_tags(entry_name: str, *, manifest_path: Path = MANIFEST_PATH) -> AssetTags:
    """Return the JS URL and CSS URLs of the page entry ``entry_name`` (e.g. ``"home"``)."""
    manifest = load_manifest(manifest_path)
    key = _entry_key(manifest, entry_name)
    css: list[str] = []
    _collect_css(manifest, key, set(), css)
    return AssetTags(js=STATIC_URL + manifest[key]["file"], css=css)
