"""Cross-Modal Semantic Gating, one per fused stage.

G_inc / G_exc are spatial sigmoid maps of where the frequency features match the projected E_pos / E_neg;
`F_refined = F_freq * G_inc * (1 - G_exc)`; the scalar gate `alpha = sigmoid(MLP(E_text * GAP(F_sem)))`;
`F_fused = F_sem + (1 + alpha) * F_refined`. `gates=False` keeps only the alpha fusion (F_refined = F_freq).
The keys (the frequency side of the match) do not depend on the prompt: `keys` computes them once per image.
"""

from __future__ import annotations

import torch
from torch import nn


def refine(f_freq: torch.Tensor, g_inc: torch.Tensor, g_exc: torch.Tensor) -> torch.Tensor:
    """The logical gate: keep what the target names, drop what the exclusion names."""
    return f_freq * g_inc * (1 - g_exc)


class CMSGate(nn.Module):
    def __init__(self, channels: int, text_dim: int, gates: bool = True, conv_op: type[nn.Module] = nn.Conv2d):
        super().__init__()
        self.gates = gates
        self.scale = channels**-0.5
        if gates:
            self.key = conv_op(channels, channels, 1)  # the planned U-Net's: Conv2d or Conv3d
            self.query_inc = nn.Linear(text_dim, channels)
            self.query_exc = nn.Linear(text_dim, channels)
        self.text = nn.Linear(text_dim, channels)
        hidden = max(8, channels // 4)
        self.alpha_mlp = nn.Sequential(nn.Linear(channels, hidden), nn.GELU(), nn.Linear(hidden, 1))

    def keys(self, f_freq: torch.Tensor) -> torch.Tensor | None:
        return self.key(f_freq) if self.gates else None

    def match(self, key: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """[B, 1, *spatial] sigmoid map of the scaled dot product of every position with the text query."""
        return torch.sigmoid(torch.einsum("bc...,bc->b...", key, query) * self.scale)[:, None]

    def forward(
        self,
        f_sem: torch.Tensor,
        f_freq: torch.Tensor,
        e_pos: torch.Tensor,
        e_neg: torch.Tensor,
        key: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        g_exc = None
        if self.gates:
            key = self.keys(f_freq) if key is None else key
            g_exc = self.match(key, self.query_exc(e_neg))
            f_refined = refine(f_freq, self.match(key, self.query_inc(e_pos)), g_exc)
        else:
            f_refined = f_freq
        spatial = tuple(range(2, f_sem.ndim))
        alpha = torch.sigmoid(self.alpha_mlp(self.text(e_pos) * f_sem.mean(dim=spatial)))
        alpha = alpha.view(*alpha.shape, *[1] * len(spatial))
        return f_sem + (1 + alpha) * f_refined, g_exc
