"""The layers below the UI never import Textual (STYLE.md, habit 2)."""

from __future__ import annotations

import subprocess
import sys

import pytest

BELOW_THE_UI = [
    "kputui.config",
    "kputui.kpi",
    "kputui.kpi.evaluate",
    "kputui.store",
    "kputui.sources",
    "kputui.collector",
    "kputui.board",
    "kputui.cli",
    "kputui.detail",
    "kputui.alerts",
    "kputui.notify",
    "kputui.metrics",
    "kputui.config_edit",
]


@pytest.mark.parametrize("module", BELOW_THE_UI)
def test_module_does_not_import_textual(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", f"{module} pulls in {result.stdout.strip()}"


def test_engine_does_no_io() -> None:
    code = (
        "import sys, kputui.kpi.evaluate, kputui.kpi.format, kputui.kpi.periods;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'tinydb', 'kputui') "
        "and (m.startswith(('httpx', 'tinydb', 'kputui.store', 'kputui.sources')))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
