"""The local signing key file, shared by the host's worker processes."""

from __future__ import annotations

import os

from core import auth
from core.config import Settings


def _settings(tmp_path) -> Settings:
    return Settings(DATA_DIR=str(tmp_path), SESSION_TOKEN_KEY="")


def test_the_key_is_made_once_and_kept(tmp_path):
    settings = _settings(tmp_path)
    key = auth.signing_key(settings)
    assert len(key) == 64 and auth.signing_key(settings) == key
    assert oct(os.stat(tmp_path / auth.KEY_FILE).st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in tmp_path.iterdir()) == [auth.KEY_FILE]


def test_a_worker_that_loses_the_race_signs_with_the_key_published_first(tmp_path, monkeypatch):
    settings = _settings(tmp_path)
    real_link = os.link

    def sibling_first(src, dst):
        (tmp_path / auth.KEY_FILE).write_bytes(b"k" * 64)  # the other worker's key lands in between
        real_link(src, dst)

    monkeypatch.setattr(auth.os, "link", sibling_first)
    assert auth.signing_key(settings) == b"k" * 64
    assert sorted(p.name for p in tmp_path.iterdir()) == [auth.KEY_FILE]
