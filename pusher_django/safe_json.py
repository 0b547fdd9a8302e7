"""The one way JSON from outside is decoded: bounded in size, depth and numbers.

HTTP bodies, webhook deliveries, websocket frames, decrypted payloads and
event ``data`` strings all come from someone else. ``json.loads`` alone
turns a few KB of nesting into ``RecursionError`` (not a ``ValueError``),
accepts ``NaN`` and ``Infinity``, and turns ``1e999`` into an infinity and
a 400-digit number into an int that later arithmetic cannot convert. Here
every such input is an :class:`UnsafeJSON` (a ``ValueError``), raised before
any of it reaches Django code.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .exceptions import UnsafeJSON

#: Deeper than anything Pusher or an application sends; far below Python's recursion limit.
MAX_DEPTH = 64
#: The largest body or frame decoded (bytes); Pusher events are at most 10 KB (100 KB on soketi).
MAX_BYTES = 1024 * 1024
#: Integers beyond this cannot round-trip through JavaScript or a float.
MAX_INT = 2**63

_SPACE = frozenset(" \t\n\r")


def _parse_constant(name: str) -> Any:
    raise UnsafeJSON(f"{name} is not a JSON number")


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UnsafeJSON(f"number out of range: {text[:20]}")
    return value


def _parse_int(text: str) -> int:
    if len(text) < 19:  # at most 18 digits: below MAX_INT, with no need to compare
        return int(text)
    if len(text) > 20:
        raise UnsafeJSON(f"integer out of range: {text[:20]}…")
    value = int(text)
    if abs(value) >= MAX_INT:
        raise UnsafeJSON(f"integer out of range: {text}")
    return value


_DECODER = json.JSONDecoder(
    parse_float=_parse_float, parse_int=_parse_int, parse_constant=_parse_constant
)


def depth(value: Any) -> int:
    """Nesting depth of decoded JSON, without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def loads(text: str | bytes, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Decode ``text``; raise :class:`UnsafeJSON` for anything unsafe or invalid."""
    if len(text) > max_bytes:
        raise UnsafeJSON(f"JSON of {len(text)} bytes is over the {max_bytes}-byte limit")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            raise UnsafeJSON("JSON is not UTF-8") from err
    # The whitespace checks are inlined: this runs twice per event the listener receives.
    start = _skip_space(text, 0) if text[:1] in _SPACE else 0
    try:
        value, end = _DECODER.raw_decode(text, start)
    except RecursionError as err:
        raise UnsafeJSON("JSON nested too deeply") from err
    except UnsafeJSON:
        raise
    except ValueError as err:
        raise UnsafeJSON(f"not valid JSON: {err}") from err
    if end != len(text) and _skip_space(text, end) != len(text):
        raise UnsafeJSON("not valid JSON: extra data after the value")
    # Counting brackets is a cheap upper bound of the depth; walk only when it may be over.
    if text.count("[") + text.count("{") > max_depth and depth(value) > max_depth:
        raise UnsafeJSON(f"JSON nested deeper than {max_depth} levels")
    return value


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in _SPACE:
        index += 1
    return index


def split_array(text: str, key: str) -> tuple[dict[str, Any], list[str]]:
    """Split a top-level object whose ``key`` holds a list, without decoding the list items.

    Returns the other members (decoded safely) and the raw text of each item,
    so that one item too deep or too odd to decode can be skipped while its
    siblings are still used. Raises :class:`UnsafeJSON` when the outer shape
    is not an object.
    """
    index = _expect(text, _skip_space(text, 0), "{")
    members: dict[str, Any] = {}
    items: list[str] = []
    while True:
        index = _skip_space(text, index)
        if text.startswith("}", index):
            return members, items
        if members or items:
            index = _skip_space(text, _expect(text, index, ","))
        end = _end_of_value(text, index)
        name = loads(text[index:end])
        if not isinstance(name, str):
            raise UnsafeJSON("not valid JSON: an object key is not a string")
        index = _expect(text, _skip_space(text, end), ":")
        index = _skip_space(text, index)
        if name == key and text.startswith("[", index):
            index = _skip_space(text, index + 1)
            while not text.startswith("]", index):
                if text.startswith(",", index):
                    index = _skip_space(text, index + 1)
                end = _end_of_value(text, index)
                items.append(text[index:end])
                index = _skip_space(text, end)
            index += 1
            members[key] = None
        else:
            end = _end_of_value(text, index)
            members[name] = loads(text[index:end])
            index = end


def _expect(text: str, index: int, char: str) -> int:
    if not text.startswith(char, index):
        raise UnsafeJSON(f"not valid JSON: expected {char!r} at {index}")
    return index + 1


def _end_of_value(text: str, index: int) -> int:
    """Where the JSON value starting at ``index`` ends, by scanning (no recursion)."""
    level = 0
    in_string = False
    position = index
    while position < len(text):
        char = text[position]
        if in_string:
            if char == "\\":
                position += 1
            elif char == '"':
                in_string = False
                if level == 0:
                    return position + 1
        elif char == '"':
            in_string = True
        elif char in "[{":
            level += 1
        elif char in "]}":
            if level == 0:
                return position
            level -= 1
            if level == 0:
                return position + 1
        elif char in ",:" and level == 0:
            break
        position += 1
    if level or in_string or position == index:
        raise UnsafeJSON("not valid JSON: unterminated value")
    return position
