"""One registry for every extension point (prompt heads, text encoders, converters, metrics), the timm way: a new
one is registered by name where it is defined, and the commands, the report and the tests loop over the names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from nnunet_semantic.errors import SemanticError

T = TypeVar("T")


class Registry(dict, Generic[T]):
    """name -> entry. `registry[name]` of an unknown name is one error naming the known ones."""

    def __init__(self, kind: str, also: str = ""):
        super().__init__()
        self.kind, self.also = kind, also  # `also`: what else a name may be, said in the error

    def register(self, name: str, entry: T | None = None) -> Callable[[T], T] | T:
        """`@registry.register(name)` above a class or function, or `registry.register(name, entry)`."""

        def add(obj: T) -> T:
            self[name] = obj
            return obj

        return add if entry is None else add(entry)

    def names(self) -> list[str]:
        return list(self)

    def __missing__(self, name: str):
        raise SemanticError(
            f"unknown {self.kind} '{name}'; known: {', '.join(self) or 'none'}"
            + (f" ({self.also})" if self.also else "")
        )
