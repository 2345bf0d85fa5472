"""Issue 6 (report): `nnunet-semantic report` writes one self-contained HTML page whose plots and overlays are
real pictures, and headless Chromium renders it to a screenshot that is not blank."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from helpers import write_nii

from nnunet_semantic.cli import main as cli
from nnunet_semantic.evaluation.evaluate import evaluate_folders
from nnunet_semantic.prompts.sidecar import prediction_name

PROMPTS = [  # (id, level, text, target, avoid, structure)
    ("L1-hippocampus", 1, "hippocampus", [1, 2], [], "hippocampus"),
    ("L2-hippocampus-0", 2, "hippocampal formation", [1, 2], [], "hippocampus"),
    ("L1-anterior", 1, "anterior hippocampus", [1], [], "anterior hippocampus"),
    ("L3-hippocampus-x-posterior", 3, "hippocampus excluding the posterior hippocampus", [1, 2], [2], "hippocampus"),
]


@pytest.fixture
def summary(tmp_path):
    """Three cases in the labelsTs / imagesTs layout; predictions with a few wrong voxels and L3 leakage."""
    rng = np.random.default_rng(0)
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    for i in range(3):
        case = f"case_{i}"
        seg = np.zeros((4, 32, 32), np.uint8)
        seg[1:3, 8:16, 8 + i: 24] = 1
        seg[1:3, 16:24, 8 + i: 24] = 2
        image = rng.normal(100, 10, seg.shape) + 60.0 * (seg > 0)
        write_nii(tmp_path / "imagesTs" / f"{case}_0000.nii.gz", image.astype(np.float32))
        write_nii(tmp_path / "labelsTs" / f"{case}.nii.gz", seg)
        for _, level, text, target, avoid, _ in PROMPTS:
            pred = np.isin(seg, target) & ~np.isin(seg, avoid)
            pred[1, 8:10 + 2 * i, 8:24] ^= True  # a few wrong voxels, more in later cases
            if level == 3:
                pred |= (seg == 2) & (np.arange(32)[None, :, None] < 18 + i)  # leaks into the excluded part
            write_nii(tmp_path / "preds" / prediction_name(case, text), pred.astype(np.uint8))
        (prompts / f"{case}.json").write_text(json.dumps({"case": case, "prompts": [
            {"id": id_, "level": lv, "text": t, "target": tg, "avoid": av, "structure": s}
            for id_, lv, t, tg, av, s in PROMPTS]}))
    out = tmp_path / "preds" / "summary.json"
    evaluate_folders(tmp_path / "labelsTs", tmp_path / "preds", prompts, out)
    return out


def _pictures(page: str) -> list[np.ndarray]:
    import matplotlib.image

    blobs = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    return [matplotlib.image.imread(io.BytesIO(base64.b64decode(b)), format="png") for b in blobs]


def _greenish(picture: np.ndarray) -> bool:
    """The reference overlay (green, half transparent over a grey image) is somewhere in the picture."""
    r, g, b = (picture[..., i] for i in range(3))
    return bool((g - np.maximum(r, b) > 0.25).any())


def test_report_is_one_self_contained_page_of_real_plots(summary, tmp_path):
    out = tmp_path / "report" / "report.html"
    assert cli(["report", str(summary), "-o", str(out), "--examples", "2"]) == 0
    page = out.read_text()
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing loaded from elsewhere
    pictures = _pictures(page)
    assert len(pictures) == 4 + 3 * 2  # radar, PSS, invariance, leakage + 2 overlays for each of L1, L2, L3
    assert all(p.std() > 0.05 for p in pictures)
    overlays = pictures[4:]
    assert all(_greenish(p) for p in overlays)  # the reference drawn over an image that was found
    assert "image not found" not in page
    assert "hippocampus excluding the posterior hippocampus" in page and "PSS" in page
    semantic = json.loads(summary.read_text())["semantic"]
    assert f"{semantic['leakage_l3']['mean']:.3f}" in page


def test_missing_prediction_files_leave_the_overlays_out(summary, tmp_path):
    for f in (tmp_path / "preds").glob("case_*.nii.gz"):
        f.unlink()
    out = tmp_path / "report.html"
    with pytest.warns(UserWarning, match="overlay of case_"):
        assert cli(["report", str(summary), "-o", str(out)]) == 0
    assert len(_pictures(out.read_text())) == 4 and "no prediction files" in out.read_text()


def test_overlays_without_the_images_say_so(summary, tmp_path):
    shutil.rmtree(tmp_path / "imagesTs")
    out = tmp_path / "report.html"
    assert cli(["report", str(summary), "-o", str(out), "--examples", "1"]) == 0
    page = out.read_text()
    assert len(_pictures(page)) == 4 + 3 and page.count("image not found") == 3
    assert cli(["report", str(summary), "-o", str(out), "--images", str(tmp_path / "nowhere")]) == 1


def test_bad_summaries_are_clear_errors(tmp_path, capsys):
    bad = tmp_path / "summary.json"
    bad.write_text(json.dumps({"metric_per_case": [], "mean": {}}))
    assert cli(["report", str(bad), "-o", str(tmp_path / "r.html")]) == 1
    assert f"{bad}: no 'semantic' section" in capsys.readouterr().err
    bad.write_text(json.dumps({"semantic": {"per_level": {}}}))
    assert cli(["report", str(bad), "-o", str(tmp_path / "r.html")]) == 1
    assert "field 'semantic.per_structure' missing" in capsys.readouterr().err
    bad.write_text("{not json")
    assert cli(["report", str(bad)]) == 1
    assert "not valid JSON" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_headless_chromium_renders_the_report(summary, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("headless Chromium not found: install Debian's `chromium` package to run this rendering check")
    import matplotlib.image

    out = tmp_path / "report.html"
    assert cli(["report", str(summary), "-o", str(out)]) == 0
    shot = tmp_path / "shot.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--no-first-run", "--hide-scrollbars",
                    "--window-size=1200,2400", f"--screenshot={shot}", out.as_uri()],
                   capture_output=True, check=True)
    picture = matplotlib.image.imread(str(shot))
    assert picture.shape[:2] == (2400, 1200)
    assert (picture[..., :3].min(-1) < 0.9).mean() > 0.05  # more than a white page with a title
    assert _greenish(picture)  # the overlays were decoded and drawn, not broken-image icons


def test_seen_and_unseen_wording_stand_side_by_side(summary, tmp_path):
    """Issue 14: with held-out wordings in the summary, one table shows each measurement on seen and on unseen
    wording; the per-structure table gets their columns."""
    from nnunet_semantic.evaluation.report import render

    data = json.loads(summary.read_text())
    page = render(data, "seen only")
    assert "Seen vs unseen wording" not in page
    s = data["semantic"]
    s["per_level"]["L2_heldout"] = {"dice": 0.123, "iou": 0.1, "n": 3, "ci95": None}
    s["invariance_heldout"] = {"mean": 0.456, "n_valid": 3}
    s["leakage_l3_heldout"] = {"mean": 0.789, "n_valid": 3}
    for v in s["per_structure"].values():
        v["dice"]["L2_heldout"] = 0.321
    page = render(data, "with unseen wordings")
    table = page.split("Seen vs unseen wording")[1].split("</table>")[0]
    seen = (s["invariance_l2"]["mean"], s["per_level"]["L2"]["dice"])
    for value in ("0.123", "0.456", "0.789", *(f"{v:.3f}" for v in seen)):
        assert value in table, value
    assert "<th>L2_heldout</th>" in page and "0.321" in page


def test_the_report_never_writes_over_its_input_or_a_file_it_did_not_write(summary, tmp_path, capsys):
    """Issue 25: `report S/summary.json -o S/summary.json` wrote HTML over its input; `-o label.nii.gz` over a
    label; `-o folder` died with IsADirectoryError."""
    before = summary.read_bytes()
    assert cli(["report", str(summary), "-o", str(summary)]) == 1
    assert "would overwrite its input" in capsys.readouterr().err and summary.read_bytes() == before
    label = tmp_path / "case_000.nii.gz"
    label.write_bytes(b"not a report")
    assert cli(["report", str(summary), "-o", str(label)]) == 1
    assert "not a report this command wrote" in capsys.readouterr().err and label.read_bytes() == b"not a report"
    assert cli(["report", str(summary), "-o", str(tmp_path)]) == 1
    assert "names a folder" in capsys.readouterr().err
    out = tmp_path / "report.html"
    assert cli(["report", str(summary), "-o", str(out)]) == 0 and cli(["report", str(summary), "-o", str(out)]) == 0


def test_a_registered_score_reaches_the_summary_its_row_the_report_and_the_command(summary, tmp_path, monkeypatch,
                                                                                   capsys):
    """Issue 35: a new score is one `SCORES.register`; the summary computes it, and the typed summary's row, the
    report's table and nnUNetv2_evaluate_semantic's output show it without an edit in any of them."""
    from nnunet_semantic.evaluation.cli import evaluate_entry
    from nnunet_semantic.evaluation.scores import SCORES, Score
    from nnunet_semantic.evaluation.summary import SemanticSummary

    monkeypatch.setitem(SCORES, "prompt_dice", Score("dice", "mean prompt Dice", lower_is_better=False))
    out = tmp_path / "again.json"
    assert evaluate_entry(["-ref", str(tmp_path / "labelsTs"), "-pred", str(tmp_path / "preds"), "-prompts",
                           str(tmp_path / "prompts"), "-o", str(out)]) == 0
    semantic = json.loads(out.read_text())["semantic"]
    per_case = {}
    for r in semantic["metric_per_prompt"]:
        per_case.setdefault(r["case"], []).append(r["dice"])
    expected = np.mean([np.mean(v) for v in per_case.values()])
    assert semantic["prompt_dice"]["n_valid"] == 3 and semantic["prompt_dice"]["mean"] == pytest.approx(expected)
    assert SemanticSummary.of(semantic).row()["prompt_dice"] == pytest.approx(expected)
    assert f"mean prompt Dice: {round(expected, 4)} (valid cases 3)" in capsys.readouterr().out
    assert cli(["report", str(out), "-o", str(tmp_path / "r.html")]) == 0
    assert "mean prompt Dice" in (tmp_path / "r.html").read_text()
