"""The formula tokenizer: numbers, names, operators; everything else is refused."""

from __future__ import annotations

import re

__all__ = ["Token", "tokenize"]

Token = tuple[str, str, int]
"""(kind, text, offset): kind is number, name, op, end, or bad (text is then a message)."""

_TOKEN = re.compile(
    r"(?P<space>\s+)|(?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>\*\*|[-+*/(),])",
    re.ASCII,
)
_FORBIDDEN = {
    "'": "text in quotes is not allowed in a formula",
    '"': "text in quotes is not allowed in a formula",
    ".": "attribute access is not allowed in a formula",
    "[": "subscripts are not allowed in a formula",
    "]": "subscripts are not allowed in a formula",
    "%": "'%' is not an operator here; write a / b * 100 or use a percent format",
    "^": "'^' is not an operator; write ** for powers",
}


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens ending with an `end` token.

    A character no token takes ends the list with a `bad` token carrying the message,
    so that the parser reports a mistake earlier in the text first.
    """
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            char = text[pos]
            tokens.append(("bad", _FORBIDDEN.get(char, f"unexpected character {char!r}"), pos))
            return tokens
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append((kind, match.group(), pos))
        pos = match.end()
    tokens.append(("end", "", len(text)))
    return tokens
