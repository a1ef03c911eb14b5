"""The real `kputui` in a real terminal: tmux at 80x24 with 16 colours, driven by keys.

A person opens the dashboard, presses `e` on the first KPI, tabs to the target value,
clears it, types a new one, saves with `ctrl+s` and quits with `q`; the test then reads
the YAML file on disk. The screen is read with `tmux capture-pane`, and every wait is a
bounded poll of it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from kputui.config import load_config

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 20.0
"""Seconds any one step may take before the test gives up and shows the screen."""
POLL = 0.05

TABS_TO_TARGET_VALUE = 10
"""Tab presses from the editor's first field (name) to the target value, in compose order:
objective, formula, period, direction, format, decimals, currency, unit, compact, target
value."""

CONFIG = """\
# Sales KPIs, typed by hand: this comment must survive an edit.
version: 1
settings: {timezone: UTC}

sources:
  crm:
    type: manual
    series:
      deals_won: {kind: event}   # closed deals
      calls: {kind: event}

kpis:
  - id: deals
    name: Deals won
    formula: sum(deals_won)
    period: month
    target: {value: 40, mode: reach}  # the plan
  - id: calls
    name: Calls made
    formula: sum(calls)
    period: week

dashboards:
  - name: Sales
    kpis: [deals, calls]
"""

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed: this test runs kputui in it"),
]


class Terminal:
    """One detached tmux session on a private server, read and typed into like a person would."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        tag = uuid.uuid4().hex[:10]
        self.socket = f"kputui-e2e-{tag}"
        self.session = f"kputui-e2e-{tag}"
        self.cwd = cwd
        self.env = env
        self.socket_path: Path | None = None

    def tmux(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, "-f", os.devnull, *args],
            cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=10,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def start(self, command: list[str]) -> None:
        # remain-on-exit is set before the command starts: a traceback stays readable after it exits.
        self.tmux("start-server", ";", "set-option", "-g", "remain-on-exit", "on", ";",
                  "new-session", "-d", "-s", self.session, "-x", "80", "-y", "24", "-c", str(self.cwd), "--",
                  *command)
        self.socket_path = Path(self.pane("#{socket_path}"))

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def send(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", self.session, *(["-l"] if literal else []), *keys)

    def pane(self, fmt: str) -> str:
        return self.tmux("display-message", "-p", "-t", self.session, fmt).strip()

    def wait_for(self, what: str, ready: Callable[[str], bool]) -> str:
        """Poll the screen until `ready(screen)`; fail with the last screen after DEADLINE."""
        deadline = time.monotonic() + DEADLINE
        while True:
            screen = self.screen()
            if ready(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen shows:\n{screen}")
            time.sleep(POLL)

    def wait_for_exit(self, status_file: Path) -> int:
        """Poll until the app has exited; its exit status, as the wrapping shell wrote it."""
        deadline = time.monotonic() + DEADLINE
        while not (status := status_file.read_text().strip() if status_file.exists() else ""):
            if time.monotonic() > deadline:
                raise AssertionError(f"kputui did not exit; the screen shows:\n{self.history()}")
            time.sleep(POLL)
        return int(status)

    def history(self) -> str:
        """The screen with the lines scrolled off it, as far back as tmux keeps them."""
        return self.tmux("capture-pane", "-p", "-S", "-", "-t", self.session)

    def close(self) -> None:
        self.tmux("kill-session", "-t", self.session, check=False)
        self.tmux("kill-server", check=False)
        if self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)


def target_field(screen: str) -> str | None:
    """The text in the editor's target value input, or None when it is not on screen."""
    lines = screen.splitlines()
    for row, line in enumerate(lines):
        if "target value" in line and row + 2 < len(lines):
            field = re.search(r"▊\s*(.*?)\s*▎", lines[row + 2])
            return field.group(1) if field else None
    return None


def test_edit_a_target_in_tmux_save_quit_and_read_the_file(tmp_path: Path) -> None:
    config_path = tmp_path / "kputui.yaml"
    config_path.write_text(CONFIG)
    homes = {name: tmp_path / folder for name, folder in (
        ("HOME", "home"), ("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"), ("XDG_CACHE_HOME", "cache"))}
    for folder in homes.values():
        folder.mkdir()
    settings = {
        **{name: str(folder) for name, folder in homes.items()},
        "TERM": "xterm",
        "TEXTUAL_COLOR_SYSTEM": "standard",
        "PYTHONPATH": str(ROOT),
    }
    env = {key: value for key, value in os.environ.items() if key not in ("TMUX", "NO_COLOR", "TEXTUAL")}
    env.update(settings)
    # tmux sets TERM in a pane from its own default-terminal, so `env` sets it again inside.
    # The shell records the exit status in a file: tmux 3.3a can leave an exited pane process
    # unreaped, and then #{pane_dead_status} stays empty.
    status_file = tmp_path / "exit-status"
    command = ["sh", "-c", f'"$@"; echo $? > {shlex.quote(str(status_file))}', "sh",
               "env", *(f"{key}={value}" for key, value in settings.items()),
               sys.executable, "-m", "kputui", "kputui.yaml", "--store", str(tmp_path / "store")]

    terminal = Terminal(tmp_path, env)
    try:
        terminal.start(command)
        terminal.wait_for("the dashboard", lambda screen: "Deals won" in screen and "Calls made" in screen)

        terminal.send("e")
        terminal.wait_for("the editor", lambda screen: "Edit KPI deals" in screen)
        terminal.send(*["Tab"] * TABS_TO_TARGET_VALUE)
        terminal.wait_for("the target value field scrolled into view", lambda screen: target_field(screen) == "40")

        # Textual runs a bound key (ctrl+u, backspace) after printable keys read in the same
        # burst, so the field must show it cleared before the new value is typed.
        terminal.send("C-u")
        terminal.wait_for("the target value cleared (its placeholder 'none' shown)",
                          lambda screen: target_field(screen) == "none")
        terminal.send("55", literal=True)
        terminal.wait_for("55 typed into the target value", lambda screen: target_field(screen) == "55")

        terminal.send("C-s")
        terminal.wait_for("the dashboard showing the new target",
                          lambda screen: "Edit KPI" not in screen and "target → 55" in screen)

        terminal.send("q")
        status = terminal.wait_for_exit(status_file)
        assert status == 0, f"kputui exited with {status}; the screen shows:\n{terminal.history()}"
    finally:
        terminal.close()

    text = config_path.read_text()
    assert "    target: {value: 55, mode: reach}  # the plan\n" in text
    assert text == CONFIG.replace("{value: 40, mode: reach}", "{value: 55, mode: reach}")
    assert (tmp_path / "kputui.yaml.bak").read_text() == CONFIG
    config = load_config(config_path)
    assert config.kpi("deals").target.value == 55
    assert [spec.id for spec in config.kpis] == ["deals", "calls"]
    assert not (homes["HOME"] / ".config").exists()
