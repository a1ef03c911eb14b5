"""Fixtures shared by every kind of test."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CONFIG = ROOT / "sample_config.yaml"


@pytest.fixture
def sample_config_path() -> Path:
    """The bundled demo config."""
    return SAMPLE_CONFIG
