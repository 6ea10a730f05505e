"""The shared Web Push pieces: one VAPID key per deployment, and a sender that never raises."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from tocsin.core.push import Outcome
from tocsin.core.webpush import PushSender, PushSettings, load_vapid


def test_starts_racing_on_a_fresh_directory_end_with_one_key(tmp_path: Path) -> None:
    keys: list[str] = []
    barrier = threading.Barrier(6)

    def start() -> None:
        barrier.wait()
        keys.append(load_vapid("", tmp_path).public_key)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["vapid.pem"]  # no temporary file left
    assert (tmp_path / "vapid.pem").stat().st_mode & 0o777 == 0o600
    assert load_vapid("", tmp_path).public_key == keys[0]


def test_the_settings_keep_the_alerts_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_ALERTS_PUSH_HOSTS", "push.example.org")
    monkeypatch.setenv("TOCSIN_ALERTS_VAPID_SUBJECT", "mailto:ops@example.org")
    settings = PushSettings()
    assert (settings.push_hosts, settings.vapid_subject) == ("push.example.org",
                                                             "mailto:ops@example.org")


def test_a_refused_host_or_broken_keys_give_a_permanent_outcome(tmp_path: Path) -> None:
    sender = PushSender(load_vapid("", tmp_path), PushSettings(push_hosts="push.example.org"))

    async def both() -> tuple[Outcome, Outcome]:
        try:
            refused = await sender.send("https://10.0.0.1/push/x", {}, {"a": 1})
            broken = await sender.send("https://push.example.org/x",
                                       {"p256dh": "AAAA", "auth": "AAAA"}, {"a": 1})
            return refused, broken
        finally:
            await sender.aclose()

    refused, broken = asyncio.run(both())
    assert refused.permanent and refused.error.startswith("refused")
    assert broken.permanent and "bad subscription keys" in broken.error
