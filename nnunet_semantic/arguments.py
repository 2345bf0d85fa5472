"""argparse types shared by the command lines."""

from __future__ import annotations

import argparse


def at_least(minimum: int):
    """argparse type: an integer >= minimum (a negative count is a typo, not a request)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse
