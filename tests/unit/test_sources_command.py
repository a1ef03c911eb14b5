"""Command sources: argv without a shell, regex or JSON output, exits, environment."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kputui.config import load_config_text
from kputui.errors import SourceError
from kputui.sources import PartialFailure, build_source

NOW = 1_780_000_000.0


def command_source(command: Any, tmp_path: Path | None = None, **extra: Any) -> Any:
    series = extra.pop("series", {"used": {"regex": r"(\d+)%", "kind": "gauge"}})
    source = {"type": "command", "command": command, **extra, "series": series}
    text = yaml.safe_dump({"version": 1, "sources": {"cmd": source}}, sort_keys=False)
    return build_source(load_config_text(text, env={}, base_dir=tmp_path).sources[0])


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


async def test_regex_takes_its_group_and_scale_applies() -> None:
    source = command_source(python("print('Use%\\n 42%')"), series={
        "used": {"regex": r"(\d+)%", "kind": "gauge", "scale": 0.01}, "whole": {"regex": r"\d+", "kind": "gauge"}})
    assert [(s.series, s.value, s.time) for s in await source.poll(NOW)] == [("used", 0.42, NOW), ("whole", 42.0, NOW)]


async def test_json_output_with_jmespath() -> None:
    source = command_source(python("import json; print(json.dumps({'q': {'depth': 7, 'name': 'mail'}}))"), series={
        "depth": {"path": "q.depth", "kind": "gauge"}, "name": {"path": "q.name", "kind": "gauge"}})
    with pytest.raises(PartialFailure) as caught:
        await source.poll(NOW)
    assert [s.value for s in caught.value.samples] == [7.0]
    assert str(caught.value) == ("series name: path q.name: 'mail' is text, not a number "
                                 "(to_number() in the path converts it)")


async def test_a_list_runs_without_a_shell() -> None:
    source = command_source(["echo", "$HOME 5%"])
    assert [s.value for s in await source.poll(NOW)] == [5.0]  # $HOME stayed literal: no shell
    shell = command_source("echo $((2 + 3))%", shell=True)
    assert [s.value for s in await shell.poll(NOW)] == [5.0]


async def test_cwd_and_env(tmp_path: Path) -> None:
    (tmp_path / "level").write_text("31%")
    source = command_source(python("import os; print(open('level').read(), os.environ['EXTRA'])"), tmp_path,
                            cwd=str(tmp_path), env={"EXTRA": "x"})
    assert [s.value for s in await source.poll(NOW)] == [31.0]


async def test_output_that_does_not_match() -> None:
    source = command_source(python("print('nothing here')"), series={
        "used": {"regex": r"(\d+)%", "kind": "gauge"}, "word": {"regex": r"(\w+) here", "kind": "gauge"},
        "doc": {"path": "a", "kind": "gauge"}})
    with pytest.raises(PartialFailure) as caught:
        await source.poll(NOW)
    assert str(caught.value).split("; ") == [
        r"series used: regex (\d+)% matched nothing in the output",
        r"series word: regex (\w+) here matched 'nothing', not a number",
        "series doc: the output is not JSON",
    ]


async def test_missing_program_and_signals() -> None:
    with pytest.raises(SourceError, match="^not found: kputui-no-such-program$"):
        await command_source(["kputui-no-such-program"]).poll(NOW)
    with pytest.raises(SourceError, match="^killed by signal 9$"):
        await command_source(python("import os, signal; os.kill(os.getpid(), signal.SIGKILL)")).poll(NOW)
    with pytest.raises(SourceError, match="^exit status 2$"):
        await command_source(python("raise SystemExit(2)")).poll(NOW)
