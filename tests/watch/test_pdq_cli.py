"""``tocsin watch hash FILE…``: one JSON line per file, keys only where they apply."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tocsin.cli import app

DATA = Path(__file__).parent / "data"


def test_hash_prints_one_line_per_file(tmp_path: Path) -> None:
    short = tmp_path / "short.txt"
    short.write_text("trop court")
    result = CliRunner().invoke(app, ["watch", "hash", str(DATA / "scene_a.png"),
                                      str(DATA / "sample_text.txt"), str(short)])
    assert result.exit_code == 0, result.output
    image, text, tiny = (json.loads(line) for line in result.stdout.splitlines())
    theirs = dict(line.split() for line in (DATA / "te_hash.txt").read_text().splitlines()
                  if not line.startswith("pdq"))
    assert image["file"].endswith("scene_a.png") and image["pdq_quality"] == 100
    assert (image["md5"], image["sha256"]) == (theirs["video_md5"], theirs["video_sha256"])
    assert image["pdq"] == (DATA / "te_hash.txt").read_text().split()[1]
    assert set(text) == {"file", "md5", "sha256", "tlsh"} and text["tlsh"].startswith("T1")
    assert set(tiny) == {"file", "md5", "sha256"}  # too short for TLSH, not an image


def test_unreadable_file_is_one_line_and_the_others_go_on(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["watch", "hash", str(tmp_path / "missing.png"),
                                      str(tmp_path), str(DATA / "scene_b.png")])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {tmp_path / 'missing.png'}: No such file or directory",
        f"error: {tmp_path}: Is a directory"]
    assert "Traceback" not in result.output
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["file"].endswith("scene_b.png")
