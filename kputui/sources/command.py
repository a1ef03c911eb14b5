"""Command sources: run a program, read its numbers from what it prints.

An argv list runs without a shell; a text runs with `/bin/sh -c` only when the config says
`shell: true`. The command runs in a session of its own so that a timeout (or a stop)
kills it and every process it started. Its output is read up to `MAX_OUTPUT`; a command
printing more is killed and reported. Each series takes its number with a `regex` (the
one group, or the whole match) or a JMESPath `path` into the output read as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from typing import Any

from kputui.errors import SourceError
from kputui.series import Sample
from kputui.sources.base import PartialFailure, Source
from kputui.sources.fetch import parse_json
from kputui.sources.values import ValueProblem, quote, size_text, to_number

__all__ = ["MAX_OUTPUT", "CommandSource", "run_command"]

MAX_OUTPUT = 1_000_000
"""Bytes of standard output read at most."""
MAX_STDERR = 64_000
"""Bytes of standard error kept (the rest is read and dropped)."""
_READ = 65_536


def _kill(process: asyncio.subprocess.Process) -> None:
    """Kill the command's whole process group."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


async def _read_capped(stream: asyncio.StreamReader, cap: int) -> tuple[bytes, bool]:
    """Read `stream` to its end or to `cap` bytes; True as second item when it had more."""
    data = bytearray()
    while chunk := await stream.read(_READ):
        if len(data) + len(chunk) > cap:
            data += chunk[: cap - len(data)]
            return bytes(data), True
        data += chunk
    return bytes(data), False


async def _drain(stream: asyncio.StreamReader, cap: int) -> bytes:
    """Read `stream` to its end, keeping the first `cap` bytes (so the child never blocks)."""
    data = bytearray()
    while chunk := await stream.read(_READ):
        if len(data) < cap:
            data += chunk[: cap - len(data)]
    return bytes(data)


async def run_command(
    command: tuple[str, ...] | str,
    *,
    shell: bool = False,
    cwd: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    max_output: int = MAX_OUTPUT,
) -> str:
    """Run `command` and return its standard output as text.

    Raises `SourceError` for a command that cannot start, prints too much, or exits with
    a non-zero status (with the first line of its standard error). Cancelling the call
    kills the command's whole process group.
    """
    full_env = {**os.environ, **(env or {})}
    name = command if isinstance(command, str) else command[0]
    try:
        if shell:
            text = command if isinstance(command, str) else " ".join(command)
            process = await asyncio.create_subprocess_shell(
                text, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, cwd=cwd, env=full_env, start_new_session=True)
        else:
            process = await asyncio.create_subprocess_exec(
                *command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, cwd=cwd, env=full_env, start_new_session=True)
    except FileNotFoundError as error:
        missing = cwd if cwd is not None and not os.path.isdir(cwd) else name
        raise SourceError(f"not found: {missing}") from error
    except PermissionError as error:
        raise SourceError(f"permission denied: {name}") from error
    except OSError as error:
        raise SourceError(f"cannot run {name}: {error.strerror or error}") from error
    assert process.stdout is not None and process.stderr is not None
    try:
        stderr_task = asyncio.ensure_future(_drain(process.stderr, MAX_STDERR))
        try:
            stdout, too_much = await _read_capped(process.stdout, max_output)
            if too_much:
                _kill(process)
                raise SourceError(f"output larger than {size_text(max_output)}")
            status = await process.wait()
            stderr = await stderr_task
        finally:
            stderr_task.cancel()
    finally:
        _kill(process)
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                await asyncio.shield(process.wait())
    if status != 0:
        first = next((line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()), "")
        what = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
        raise SourceError(f"{what}: {first}" if first else what)
    return stdout.decode("utf-8", "replace")


def pick_numbers(output: str, series: tuple[Any, ...], now: float) -> list[Sample]:
    """One sample per series from a command's output (see the module docstring)."""
    samples: list[Sample] = []
    problems: list[str] = []
    document: Any = None
    for spec in series:
        regex, path = spec.options.get("regex"), spec.options.get("path")
        try:
            if regex is not None:
                match = regex.search(output)
                if match is None:
                    raise ValueProblem(f"regex {regex.pattern} matched nothing in the output")
                text = match.group(1) if regex.groups else match.group(0)
                try:
                    value = to_number(text, text_ok=True)
                except ValueProblem:
                    raise ValueProblem(f"regex {regex.pattern} matched {quote(text)}, not a number") from None
            else:
                if document is None:
                    try:
                        document = parse_json(output.encode(), "the command")
                    except SourceError:
                        raise ValueProblem("the output is not JSON") from None
                found = path.search(document)
                if found is None:
                    raise ValueProblem(f"path {path.expression} matched nothing")
                try:
                    value = to_number(found)
                except ValueProblem as problem:
                    raise ValueProblem(f"path {path.expression}: {problem}") from None
        except ValueProblem as problem:
            problems.append(f"series {spec.name}: {problem}")
            continue
        samples.append(Sample(spec.name, now, value * spec.scale))
    if problems:
        raise PartialFailure("; ".join(problems), samples)
    return samples


class CommandSource(Source):
    """Runs its command each poll and reads every series from the output."""

    async def poll(self, now: float) -> list[Sample]:
        options = self.spec.options
        output = await run_command(
            options["command"],
            shell=bool(options.get("shell")),
            cwd=options.get("cwd"),
            env={str(k): str(v) for k, v in (options.get("env") or {}).items()},
        )
        return pick_numbers(output, self.spec.series, now)
