"""The end-of-training validation's cost on large slices (issue: a BraTS-like dataset, 240x240 slices, patch 256x256,
77 prompts per case, had not validated 2 cases after 6 minutes on the CPU): seconds of the sliding window for one
case's prompts answered per tile with 16 prompts per pass (the old fixed chunk) and with the automatic chunk (as
many as fit 1 GiB), and composed from one pass over the label logits (the `labels` head's default), with and
without mirroring, side by side in one run. The network is SemanticTrainer's at that patch, randomly
initialised (weights do not change the arithmetic); the volume has `--slices` slices (the cost is linear in them:
`s_per_155_slices` extrapolates to a BraTS volume).

    python benchmarks/validation_large_slices.py [--slices 8] [--prompts 77] [--repeats 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("nnUNet_compile", "f")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from common import write_results  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slices", type=int, default=8)
    parser.add_argument("--prompts", type=int, default=77)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()

    import torch
    from net_helpers import plan_2d

    from nnunet_semantic.inference.predictor import SemanticPredictor
    from nnunet_semantic.networks import NetworkConfig, build_network

    torch.set_num_threads(os.cpu_count() or 1)
    configuration = plan_2d((256, 256), (32, 64, 128, 256, 512, 512, 512))  # nnU-Net's 2d plan at this patch
    torch.manual_seed(0)
    network = build_network(configuration, 2, NetworkConfig(384, num_labels=4), deep_supervision=False).eval()
    print(network.describe())
    g = torch.Generator().manual_seed(1)
    texts = [{"pos": torch.randn(384, generator=g), "neg": torch.randn(384, generator=g),
              "has_neg": torch.tensor(i % 3 == 0)} for i in range(args.prompts)]
    image = torch.randn(2, args.slices, 240, 240, generator=g)
    rows = []
    for mirroring in (False, True):
        for path, chunk in (("per tile", 16), ("per tile", None), ("composed", None)):
            network.head.composes_labels = path == "composed"
            predictor = SemanticPredictor(tile_step_size=0.5, use_gaussian=True, use_mirroring=mirroring,
                                          device=torch.device("cpu"), verbose=False, allow_tqdm=False)
            predictor.network, predictor.configuration_manager = network, configuration
            predictor.list_of_parameters, predictor.allowed_mirroring_axes = None, (0, 1) if mirroring else None
            predictor.prompt_chunk = chunk
            seconds = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                predictor.prompt_logits(image, texts)
                seconds.append(time.perf_counter() - start)
            passes = 1 if path == "composed" else -(-args.prompts // (
                chunk or max(16, predictor.CHUNK_BUFFER_BYTES // (2 * image[0].numel()))))
            s = min(seconds)
            rows.append({"mirroring": mirroring, "path": path, "prompt_chunk": chunk or "auto", "passes": passes,
                         "prompts": args.prompts, "slices": args.slices, "seconds": round(s, 2),
                         "s_per_155_slices": round(s * 155 / args.slices, 1)})
            print(rows[-1], flush=True)
    for row in rows:
        base = next(r for r in rows if r["mirroring"] == row["mirroring"] and r["prompt_chunk"] == 16)  # per tile
        row["speedup_vs_chunk_16"] = round(base["seconds"] / row["seconds"], 2)
    write_results("validation_large_slices", {"network": network.describe()}, rows,
                  ["mirroring", "path", "prompt_chunk", "passes", "prompts", "slices", "seconds", "s_per_155_slices",
                   "speedup_vs_chunk_16"])


if __name__ == "__main__":
    main()
