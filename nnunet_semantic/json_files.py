"""The one JSON reader: a missing or broken file is one line naming it (and where it breaks), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nnunet_semantic.errors import InputError


class _DuplicateKey(ValueError):
    pass


def _unique(pairs: list[tuple[str, Any]]) -> dict:
    keys = [k for k, _ in pairs]
    twice = next((k for k in keys if keys.count(k) > 1), None)
    if twice is not None:
        raise _DuplicateKey(twice)
    return dict(pairs)


def read_json(path: Path, missing: str = "file not found") -> Any:
    """The parsed file; `missing` says what a missing file should have been (e.g. what a folder holds). A key given
    twice in one object is an error: JSON readers keep the last one, and the first is lost without a word."""
    try:
        return json.loads(Path(path).read_text(), object_pairs_hook=_unique)
    except _DuplicateKey as e:
        raise InputError(
            path, f"key {str(e)!r} appears twice in one object (the first would be lost): give each key once"
        ) from None
    except FileNotFoundError:
        raise InputError(path, missing) from None
    except json.JSONDecodeError as e:
        raise InputError(path, f"not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except UnicodeDecodeError as e:
        raise InputError(path, f"not valid JSON (not UTF-8 text: {e.reason} at byte {e.start})") from None
