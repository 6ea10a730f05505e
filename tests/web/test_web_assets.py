"""Lookup of built assets in the Vite manifest."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tocsin.web.assets import AssetsNotBuilt, asset_tags


def write_manifest(tmp_path: Path, data: object) -> Path:
    path = tmp_path / ".vite" / "manifest.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_entry_with_shared_chunk_css(tmp_path: Path) -> None:
    path = write_manifest(
        tmp_path,
        {
            "src/pages/home.ts": {
                "file": "assets/home-1.js",
                "isEntry": True,
                "imports": ["_shared-2.js"],
                "css": ["assets/home-3.css"],
            },
            "_shared-2.js": {"file": "assets/shared-2.js", "css": ["assets/base-4.css"]},
        },
    )
    tags = asset_tags("home", manifest_path=path)
    assert tags.js == "/static/assets/home-1.js"
    assert tags.css == ["/static/assets/base-4.css", "/static/assets/home-3.css"]
    js, css = tags  # also a plain (js, css) tuple
    assert (js, css) == (tags.js, tags.css)


def test_missing_manifest_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(AssetsNotBuilt, match="make frontend"):
        asset_tags("home", manifest_path=tmp_path / "nope" / "manifest.json")


def test_unknown_entry_says_where_to_add_it(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, {})
    with pytest.raises(AssetsNotBuilt, match=r"src/pages/sos\.ts"):
        asset_tags("sos", manifest_path=path)


def test_corrupt_manifest(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, {})
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(AssetsNotBuilt, match="make frontend"):
        asset_tags("home", manifest_path=path)


def test_rebuilt_manifest_is_reread(tmp_path: Path) -> None:
    entry = {"file": "assets/home-old.js", "isEntry": True}
    path = write_manifest(tmp_path, {"src/pages/home.ts": entry})
    assert asset_tags("home", manifest_path=path).js.endswith("home-old.js")
    entry["file"] = "assets/home-new-build.js"
    before = path.stat().st_mtime_ns
    path.write_text(json.dumps({"src/pages/home.ts": entry}), encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))  # a coarse clock may not have ticked
    assert asset_tags("home", manifest_path=path).js.endswith("home-new-build.js")
