"""`convert <name>`: the source layouts, registered by the module that converts each (a new layout is a new module
that registers itself; the command's subcommands are the registry's entries)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nnunet_semantic.registry import Registry


def input_folder(help: str, type=Path) -> Callable[[argparse.ArgumentParser], None]:
    """The source's `-i` argument."""
    return lambda parser: parser.add_argument("-i", type=type, required=True, help=help)


@dataclass(frozen=True)
class Converter:
    """`convert(-i, -d, **options, overwrite, num_processes, settings) -> raw dataset folder`; `arguments` adds the
    source's own arguments (its `-i`, where it has one), `options` maps their names to `convert`'s keywords."""

    convert: Callable[..., Path]
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    description: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    takes_input: bool = True
    ontology: bool = False  # takes --ontology (a structure file for the source's labels)

    def run(self, args: argparse.Namespace, **common) -> Path:
        options = {keyword: getattr(args, name) for name, keyword in self.options.items()}
        if self.ontology:
            options["ontology"] = args.ontology
        return self.convert(*([args.i] if self.takes_input else []), args.d, **options, **common)


CONVERTERS: Registry[Converter] = Registry("converter")


def load_converters() -> Registry[Converter]:
    """Every module of this package imported, so that each converter has registered itself."""
    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        importlib.import_module(f"{__package__}.{module.name}")
    return CONVERTERS
