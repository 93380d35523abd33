"""Fixtures shared by the runtime tests."""

from __future__ import annotations

import pytest

from lightshuttle_runtime.runtime import _health


@pytest.fixture
def no_safety_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only events (and what they prompt) can end a wait before its timeout."""
    monkeypatch.setattr(_health, "SAFETY_POLL", 3600.0)
