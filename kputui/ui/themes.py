"""Themes from YAML files: kputui's own in `themes/`, and a user's in their config folder.

A theme file holds the fields of a Textual `Theme` (name, primary, ..., dark, ansi,
variables). A file that fails to load is reported and skipped; the app falls back to a
built-in theme.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import yaml
from textual.color import Color, ColorParseError
from textual.theme import Theme

__all__ = ["BUILTIN_THEMES", "load_theme", "load_themes"]

BUILTIN_THEMES = Path(__file__).resolve().parent.parent / "themes"
"""The themes shipped with kputui."""

_FIELDS = {field.name for field in fields(Theme)}
_COLOURS = {"primary", "secondary", "warning", "error", "success", "accent", "foreground", "background",
            "surface", "panel", "boost"}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_theme(path: Path) -> Theme:
    """The theme in `path`; ValueError with the reason if it is not a valid theme."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read theme: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or "primary" not in data:
        raise ValueError(f"{path}: a theme needs at least `name` and `primary`")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ValueError(f"{path}: unknown theme keys: {', '.join(map(str, unknown))}")
    for key in _COLOURS & set(data):
        if not str(data[key]).startswith("ansi_"):
            try:
                Color.parse(data[key])
            except ColorParseError:
                raise ValueError(f"{path}: {key}: not a colour: {data[key]!r}") from None
    try:
        return Theme(**data)
    except TypeError as error:
        raise ValueError(f"{path}: invalid theme: {error}") from None


def load_themes(*folders: Path) -> tuple[list[Theme], list[str]]:
    """Every theme in `folders` (later folders override earlier names) and the errors."""
    themes: dict[str, Theme] = {}
    errors: list[str] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            try:
                theme = load_theme(path)
            except ValueError as error:
                errors.append(str(error))
            else:
                themes[theme.name] = theme
    return list(themes.values()), errors
