"""A configuration problem, and how a setting's value may be echoed in one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .codes import Code, Level

__all__ = ["Problem", "redact", "shown"]

_CREDENTIALS_RE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration: its code (see :mod:`.codes`) and a fix."""

    code: Code
    message: str
    hint: str

    @property
    def id(self) -> str:
        return self.code.id

    @property
    def level(self) -> Level:
        return self.code.level


def redact(text: str) -> str:
    """``https://KEY:SECRET@host`` → ``https://***@host``, wherever a URL appears in ``text``."""
    return _CREDENTIALS_RE.sub(r"\g<scheme>***@", text)


def shown(value: Any) -> str:
    """A setting's value as a check message may echo it: credentials out, length capped."""
    text = redact(repr(value))
    return text if len(text) <= 80 else text[:79] + "…"
