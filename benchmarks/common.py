"""Shared by the benchmark scripts: where results go and how a table is printed and saved."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    import os

    import torch

    return {"python": platform.python_version(), "torch": torch.__version__, "cpu_count": os.cpu_count(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def write_results(name: str, payload: dict, rows: list[dict], columns: list[str]) -> str:
    """Print a Markdown table and write `results/<name>.json` and `.md`; returns the table."""
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns)
    body = "\n".join("| " + " | ".join(str(r.get(c, "")) for c in columns) + " |" for r in rows)
    table = f"{head}\n{body}"
    RESULTS.mkdir(exist_ok=True)
    payload = {**payload, "rows": rows, "machine": machine(), "command": " ".join(["python", *sys.argv])}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=1))
    (RESULTS / f"{name}.md").write_text(f"# {name}\n\n{table}\n\nCommand: `{payload['command']}`\n")
    print(table)
    return table
