"""`nnunet-semantic report`: one self-contained HTML page (plots inlined as PNG) from a SemantiBench summary.json,
so a result can be mailed or archived without the prediction folders it was computed from."""

from __future__ import annotations

import base64
import html
import io
import math
import warnings
from pathlib import Path

import numpy as np

from nnunet_semantic.errors import InputError, SemanticError
from nnunet_semantic.evaluation.metrics import reference_mask
from nnunet_semantic.evaluation.scores import SCORES
from nnunet_semantic.evaluation.semantibench import HELDOUT_LEVELS, LEVELS, finite
from nnunet_semantic.evaluation.summary import SemanticSummary
from nnunet_semantic.json_files import read_json

COLOURS = {"L1": "#1f77b4", "L2": "#2ca02c", "L3": "#d62728"}


def load_summary(path: Path) -> tuple[dict, SemanticSummary]:
    """(the summary.json, its `semantic` section read); one error naming the file and a missing field."""
    summary = read_json(path)
    semantic = SemanticSummary.of(summary.get("semantic") if isinstance(summary, dict) else None, str(path))
    if "metric_per_prompt" not in summary["semantic"]:
        raise InputError(path, "field 'semantic.metric_per_prompt' missing")
    return summary, semantic


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def radar(per_structure: dict) -> str:
    """L1 vs L3 Dice per structure: a structure the model follows modifiers on keeps both polygons close."""
    import matplotlib.pyplot as plt

    names = list(per_structure)
    angles = np.linspace(0, 2 * np.pi, len(names), endpoint=False)
    fig = plt.figure(figsize=(5, 4.5))
    ax = fig.add_subplot(polar=True)
    for level in ("L1", "L3"):
        values = np.array(
            [np.nan if per_structure[s]["dice"][level] is None else per_structure[s]["dice"][level] for s in names]
        )
        closed = np.r_[values, values[:1]], np.r_[angles, angles[:1]]
        ax.plot(closed[1], closed[0], color=COLOURS[level], label=f"{level} Dice")
        ax.scatter(angles, values, color=COLOURS[level], zorder=3)
    ax.set_xticks(angles, names)
    ax.set_ylim(0, 1)
    ax.legend(loc="lower right", bbox_to_anchor=(1.2, -0.1))
    ax.set_title("Dice per structure: L1 (name) vs L3 (with exclusion)")
    return _png(fig)


def pss_histogram(records: list[dict]) -> str:
    import matplotlib.pyplot as plt

    values = finite(r.get("pss") for r in records)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    if values:
        ax.hist(values, bins=20, color=COLOURS["L3"])
        ax.axvline(float(np.mean(values)), color="black", ls="--", label=f"mean {np.mean(values):.3f}")
        ax.set_xlabel("PSS = 1 - Dice(L3) / Dice(L1)")
        ax.set_ylabel("L3 prompts")
        ax.legend()
    else:
        _empty(ax, "no L3 prompt whose structure reached Dice(L1) > 0.8")
    ax.set_title("Prompt Sensitivity Score")
    return _png(fig)


def invariance_scatter(records: list[dict]) -> str:
    import matplotlib.pyplot as plt

    l1 = {(r["case"], r["structure"]): r["dice"] for r in records if r["level"] == "L1"}
    points = [
        (l1[(r["case"], r["structure"])], r["invariance"])
        for r in records
        if r["level"] == "L2" and (r["case"], r["structure"]) in l1 and finite([r.get("invariance")])
    ]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    if points:
        x, y = zip(*points)
        ax.scatter(x, y, s=12, color=COLOURS["L2"], alpha=0.7)
        ax.set_xlim(0.78, 1.0)
        ax.set_ylim(min(0.5, min(y)), 1.0)
        ax.set_xlabel("Dice of the structure's L1 prompt")
        ax.set_ylabel("Dice(pred L1, pred L2)")
    else:
        _empty(ax, "no L2 prompt whose structure reached Dice(L1) > 0.8")
    ax.set_title("L2 invariance (defined where Dice(L1) > 0.8)")
    return _png(fig)


def leakage_bars(per_structure: dict) -> str:
    import matplotlib.pyplot as plt

    items = [(s, v["leakage_l3"]) for s, v in per_structure.items() if v.get("leakage_l3") is not None]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    if items:
        names, values = zip(*items)
        ax.bar(range(len(names)), values, color=COLOURS["L3"])
        ax.set_xticks(range(len(names)), names, rotation=20, ha="right")
        ax.set_ylim(0, max(0.1, max(values) * 1.15))
        ax.set_ylabel("|pred(L3) ∩ excluded| / |excluded|")
    else:
        _empty(ax, "no L3 prompts")
    ax.set_title("L3 leakage into the excluded part")
    return _png(fig)


def _images_folder(reference: Path) -> Path | None:
    """Where the case images of a reference folder are: labelsXx -> imagesXx beside it; nnU-Net's
    gt_segmentations -> the raw dataset's imagesTr."""
    folder = reference.parent
    if folder.name.startswith("labels"):
        sibling = folder.with_name("images" + folder.name[len("labels") :])
        return sibling if sibling.is_dir() else None
    if folder.name == "gt_segmentations":
        from nnunet_semantic.paths import raw_dataset_folder

        try:
            raw = raw_dataset_folder(folder.parent.name)
        except SemanticError:
            return None
        return next((raw / f for f in ("imagesTr", "imagesTs") if (raw / f).is_dir()), None)
    return None


def _read(path: Path) -> np.ndarray:
    import SimpleITK as sitk

    return sitk.GetArrayFromImage(sitk.ReadImage(str(path)))


def _examples(summary: dict, per_level: int) -> list[dict]:
    """Per level, prompts spread over the Dice range (worst, median, best, ...)."""
    entries = {(e["case"], e["prompt"]["id"]): e for e in summary.get("metric_per_case", []) if "prompt" in e}
    chosen = []
    for level in (*LEVELS, *HELDOUT_LEVELS):
        rs = sorted(
            (
                r
                for r in summary["semantic"]["metric_per_prompt"]
                if r["level"] == level and finite([r["dice"]]) and (r["case"], r["prompt"]) in entries
            ),
            key=lambda r: r["dice"],
        )
        picks = sorted({round(i) for i in np.linspace(0, len(rs) - 1, min(per_level, len(rs)))}) if rs else []
        chosen += [rs[i] | {"entry": entries[(rs[i]["case"], rs[i]["prompt"])]} for i in picks]
    return chosen


def _image(example: dict, reference: Path, images: Path | None, shape: tuple) -> np.ndarray | None:
    folder = images or _images_folder(reference)
    path = folder / f"{example['case']}_0000{reference.name[len(example['case']) :]}" if folder else None
    image = _read(path) if path is not None and path.is_file() else None
    return image if image is not None and image.shape == shape else None


def overlay(example: dict, images: Path | None) -> tuple[str, bool] | None:
    """Image / reference / prediction on the slice where reference and prediction are largest; and whether the
    case's image was found (the masks are drawn on black otherwise)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    entry, prompt = example["entry"], example["entry"]["prompt"]
    ref_file, pred_file = Path(entry["reference_file"]), Path(entry["prediction_file"])
    try:
        seg, pred = _read(ref_file), _read(pred_file) > 0
    except RuntimeError as e:
        warnings.warn(f"overlay of {example['case']} / '{example['text']}' left out: {e}", stacklevel=2)
        return None
    ref = reference_mask(seg, prompt["target"], prompt.get("avoid", []))
    image = _image(example, ref_file, images, seg.shape)
    found = image is not None
    if not found:
        image = np.zeros(seg.shape, np.float32)
    if seg.ndim == 3:  # the slice (first axis) where reference and prediction cover most
        z = int(np.argmax((ref | pred).reshape(seg.shape[0], -1).sum(1)))
        image, ref, pred = image[z], ref[z], pred[z]
    lo, hi = np.percentile(image, (1, 99))
    fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.8))
    for ax, mask, title, colour in zip(
        axes, (None, ref, pred), ("image", "reference", "prediction"), (None, "#00c000", "#ff2020")
    ):
        ax.imshow(image, cmap="gray", vmin=lo, vmax=max(hi, lo + 1e-6))
        if mask is not None:
            ax.imshow(np.ma.masked_where(~mask, mask), cmap=ListedColormap([colour]), alpha=0.55, vmin=0, vmax=1)
        ax.set_title(title + (f", slice {z}" if seg.ndim == 3 and mask is None else ""), fontsize=9)
        ax.axis("off")
    return _png(fig), found


def _number(v) -> str:
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.3f}"


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c if isinstance(c, str) else _number(c))}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


STYLE = """body{font-family:sans-serif;margin:2em;max-width:70em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.3em .7em;text-align:right}
th{background:#eee}.grid{display:flex;flex-wrap:wrap;gap:1em}img{max-width:100%}pre{background:#f6f6f6;padding:1em}"""


def render(summary: dict, title: str, images: Path | None = None, examples_per_level: int = 3) -> str:
    import matplotlib

    matplotlib.use("Agg")
    s = SemanticSummary.of(summary.get("semantic"), title)
    levels = _table(
        ["level", "Dice", "95% CI", "IoU", "prompts"],
        [
            [
                lv,
                v["dice"],
                "–" if not v.get("ci95") else f"{_number(v['ci95'][0])}–{_number(v['ci95'][1])}",
                v["iou"],
                str(v["n"]),
            ]
            for lv, v in s.per_level.items()
        ],
    )
    gamed = " (L3 leakage is high: not evidence of compliance)"
    scores = _table(
        ["score", "mean", "cases"],  # every registered score this summary has cases for
        [
            [score.label + (gamed if name == "pss" and s.pss_is_gamed else ""), s.mean(name), str(s.n_valid(name))]
            for name, score in SCORES.items()
            if s.n_valid(name)
        ],
    )
    heldout = [lv for lv in HELDOUT_LEVELS if lv in s.per_level]
    wording = ""
    if heldout:  # the same measurement on trained wordings and on wordings the model never saw
        sets = ["heldout", *(["paraphrase"] if any(k.endswith("_paraphrase") for k in heldout) else [])]

        def row(name, seen, key):
            return [name, seen, *(key(w) for w in sets)]

        wording = "<h2>Seen vs unseen wording</h2>" + _table(
            ["", "seen wording", "unseen wording", *(["parts as people phrase them"] if len(sets) > 1 else [])],
            [
                row("Dice, one structure (L2)", s.dice("L2"), lambda w: s.dice(f"L2_{w}")),
                row("Dice, exclusion (L3)", s.dice("L3"), lambda w: s.dice(f"L3_{w}")),
                row("invariance to the L1 prediction", s.mean("invariance_l2"), lambda w: s.mean(f"invariance_{w}")),
                row("L3 leakage", s.mean("leakage_l3"), lambda w: s.mean(f"leakage_l3_{w}")),
            ],
        )
    if s.absent.get("n"):
        scores += _table(
            ["absent structures", "false-positive rate", "mean predicted voxels", "prompts"],
            [["", s.absent["false_positive_rate"], s.absent["mean_predicted_voxels"], str(s.absent["n"])]],
        )
    structures = _table(
        ["structure", "L1", "L2", "L3", *heldout, "L1-L3 gap", "L3 leakage"],
        [
            [name, *(v["dice"].get(lv) for lv in (*LEVELS, *heldout)), v["disparity"].get("gap_L1_L3"), v["leakage_l3"]]
            for name, v in s.per_structure.items()
        ],
    )
    plots = [
        radar(s.per_structure),
        pss_histogram(s.records),
        invariance_scatter(s.records),
        leakage_bars(s.per_structure),
    ]
    overlays = [(e, o) for e in _examples(summary, examples_per_level) if (o := overlay(e, images))]
    figure = "".join(f'<img src="{p}" alt="plot">' for p in plots)
    pictures = (
        "".join(
            f'<figure><img src="{png}" alt="overlay"><figcaption>{e["level"]} · {html.escape(e["case"])} · '
            f'"{html.escape(e["text"])}" · Dice {e["dice"]:.3f}{"" if found else " · image not found"}'
            "</figcaption></figure>"
            for e, (png, found) in overlays
        )
        or "<p>no prediction files</p>"
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'>{GENERATOR}<title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>SemantiBench report</h1><p>{html.escape(title)}</p>"
        f"<h2>Per level</h2>{levels}{scores}{wording}<h2>Per structure</h2>{structures}"
        f"<h2>Plots</h2><div class='grid'>{figure}</div>"
        f"<h2>Examples (image / reference / prediction)</h2><div class='grid'>{pictures}</div>"
        f"<h2>Rules</h2><pre>{html.escape(s.rules)}</pre></body></html>"
    )


GENERATOR = "<meta name='generator' content='nnunet_semantic report'>"  # what marks a file as one this wrote


def write_report(summary_file: Path, output: Path, images: Path | None = None, examples_per_level: int = 3) -> Path:
    summary, _ = load_summary(summary_file)
    if images is not None and not Path(images).is_dir():
        raise InputError(images, "images folder not found")
    output = Path(output)
    if output.resolve() == Path(summary_file).resolve():
        raise InputError(output, "-o names the summary being reported: the report would overwrite its input")
    if output.is_dir():
        raise InputError(output, "-o names a folder; give the HTML file to write, e.g. report.html")
    if output.exists() and GENERATOR not in output.read_text(encoding="utf-8", errors="replace")[:2000]:
        raise InputError(output, "exists and is not a report this command wrote; choose another -o")
    page = render(summary, str(Path(summary_file).resolve()), images and Path(images), examples_per_level)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(page, encoding="utf-8")
    return output
