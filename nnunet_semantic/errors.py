"""Errors the CLI reports as one clear line (no traceback): bad input, named by file and field."""


class SemanticError(Exception):
    """Base of every user-facing error of this package."""


class InputError(SemanticError):
    """A file the user gave is missing or malformed; the message names the file and the field."""

    def __init__(self, path, message: str):
        self.path, self.message = str(path), message
        super().__init__(f"{path}: {message}")

    def __reduce__(self):  # raised in worker processes: must survive pickling
        return type(self), (self.path, self.message)


class PromptError(SemanticError):
    """A prompt names a structure that is unknown or ambiguous in the ontology."""
