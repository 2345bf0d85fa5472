"""Errors the CLI reports as one clear line (no traceback): bad input, named by file and field."""

from __future__ import annotations

import sys


class SemanticError(Exception):
    """Base of every user-facing error of this package."""


def report(e: SemanticError | OSError) -> int:
    """A command's exit status 1 after one line instead of a traceback: our own errors, and the file system
    refusing a file it names (a read-only or full disk, a folder without permission). Any other error (a bug) is
    raised again with its traceback."""
    if isinstance(e, SemanticError):
        print(f"error: {_printable(str(e))}", file=sys.stderr)
    elif e.filename is not None:
        print(f"error: {_printable(f'{e.filename}: {e.strerror or e}')}", file=sys.stderr)
    else:
        raise e
    return 1


def _printable(line: str) -> str:
    """The line with control characters escaped: a prompt or file name holding ESC must not drive the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)


class InputError(SemanticError):
    """A file the user gave is missing or malformed; the message names the file and the field."""

    def __init__(self, path, message: str):
        self.path, self.message = str(path), message
        super().__init__(f"{path}: {message}")

    def __reduce__(self):  # raised in worker processes: must survive pickling
        return type(self), (self.path, self.message)


class PromptError(SemanticError):
    """A prompt names a structure that is unknown or ambiguous in the ontology."""


class UnknownStructure(PromptError):
    """A phrase names nothing of the ontology: a target may still be answered from its free text when it is close
    to what the model knows (the predictor decides); an exclusion never is."""

    def __init__(self, message: str, role: str = "target"):
        super().__init__(message)
        self.role = role

    def __reduce__(self):
        return type(self), (str(self), self.role)


class UnknownPart(UnknownStructure):
    """A phrase names a structure and a part of it the ontology does not have ("the left half of the hippocampus"):
    refused like an unknown exclusion, never answered by the structure's nearest text."""
