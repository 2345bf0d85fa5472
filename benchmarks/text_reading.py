"""How a text head reads wordings it was never fitted on, without images: for every shipped ontology, heads are
fitted (AdamW, the trainer's text learning rate and weight decay, BCE, the membership loss's target) to read which
labels each training wording names (`training_wordings`: names, synonyms, descriptions, training templates), then
read the structures' held-out phrases (`heldout`). Score: the share of held-out phrases whose label set is read
exactly. Heads: the `labels` head's MLP, a linear head, a cosine-prototype head, and the training vocabulary itself
(softmax(T x cosine)-weighted label sets of the training wordings, T = SemanticTrainer.vocabulary_temperature);
all on centred, normalised MiniLM vectors as the network sees them.

    python benchmarks/text_reading.py [--seeds 3] [--iterations 1500]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results  # noqa: E402


def _heads(dim: int, labels: int):
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Cosine(nn.Module):
        def __init__(self):
            super().__init__()
            self.prototypes = nn.Parameter(torch.randn(labels, dim) * 0.05)
            self.scale, self.bias = nn.Parameter(torch.tensor(10.0)), nn.Parameter(torch.zeros(labels))

        def forward(self, x):
            return self.scale * F.normalize(x, dim=-1) @ F.normalize(self.prototypes, dim=-1).T + self.bias

    from nnunet_semantic.networks.heads.labels import membership_reader

    return {"mlp (labels head)": lambda: membership_reader(dim, labels), "linear": lambda: nn.Linear(dim, labels),
            "cosine prototypes": Cosine}


def _encode(encoder, pairs: list[tuple[str, frozenset[int]]], n_labels: int):
    """(vectors [N, D], label indicators [N, L]) of (text, label ids) pairs."""
    import torch

    vectors = torch.from_numpy(encoder.encode([t for t, _ in pairs]))
    target = torch.zeros(len(pairs), n_labels)
    for i, (_, labels) in enumerate(pairs):
        target[i, [label - 1 for label in labels]] = 1
    return vectors, target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=1500)
    args = parser.parse_args()
    import numpy as np
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)  # thousands of tiny steps: threads only contend
    from nnunet_semantic.prompts.ontologies import ONTOLOGIES, get_ontology
    from nnunet_semantic.prompts.wording import training_wordings
    from nnunet_semantic.text import get_encoder
    from nnunet_semantic.trainers import SemanticTrainer

    encoder = get_encoder("minilm")
    rows = []
    for key in sorted(ONTOLOGIES):
        ontology = get_ontology(key)
        n_labels = max(ontology.label_ids)

        train_x, train_y = _encode(encoder, [(t, s.labels) for s in ontology.structures.values()
                                             for t in training_wordings(s)], n_labels)
        test_x, test_y = _encode(encoder, [(t, s.labels) for s in ontology.structures.values() for t in s.heldout],
                                 n_labels)
        mean = train_x.mean(0)
        train_x, test_x = (F.normalize(x - mean, dim=-1) for x in (train_x, test_x))
        row = {"ontology": key, "training wordings": len(train_x), "held-out phrases": len(test_x)}
        weights = torch.softmax(SemanticTrainer.vocabulary_temperature * test_x @ train_x.T, -1)
        row["training vocabulary"] = round(float(((weights @ train_y > 0.5) == test_y.bool()).all(1).float().mean()), 3)
        for name, make in _heads(train_x.shape[1], n_labels).items():
            scores = []
            for seed in range(args.seeds):
                torch.manual_seed(seed)
                head = make()
                opt = torch.optim.AdamW(head.parameters(), SemanticTrainer.text_lr,
                                        weight_decay=SemanticTrainer.text_weight_decay)
                for _ in range(args.iterations):
                    batch = torch.randint(0, len(train_x), (64,))
                    loss = F.binary_cross_entropy_with_logits(head(train_x[batch]), train_y[batch])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                with torch.no_grad():
                    scores.append(float(((head(test_x) > 0) == test_y.bool()).all(1).float().mean()))
            row[name] = round(float(np.mean(scores)), 3)
        rows.append(row)
    columns = ["ontology", "training wordings", "held-out phrases", "training vocabulary", *_heads(1, 1)]
    rows.append({"ontology": "mean"} | {c: round(float(np.mean([r[c] for r in rows])), 3) for c in columns[3:]})
    write_results("text_reading", {"seeds": args.seeds, "iterations": args.iterations,
                                   "temperature": SemanticTrainer.vocabulary_temperature}, rows, columns)


if __name__ == "__main__":
    main()
