"""Frequency stream: a ConvNeXt encoder on the DWT bands whose stages line up with the planned encoder's.

`scaled` builds ConvNeXt blocks to the plan's own strides and widths (any patch, 2D or 3D: e.g. 56x40, or
32x224x256 with its anisotropic strides); `convnext_tiny` uses timm's (2D) ConvNeXt-Tiny where the patch is large
enough and maps its four stages onto the planned ones. Either way stage k comes out with the planned width of stage k.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from torch import nn

with warnings.catch_warnings():  # timm's import calls torch.jit.interface (deprecated): noise in every command
    warnings.filterwarnings("ignore", message=".*torch.jit.interface. is deprecated", category=FutureWarning)
    from timm.layers import LayerNorm2d

CONVNEXT_TINY_MIN_PATCH = 256  # its deepest stage is 1/64 of the image: keep at least 4 pixels there


class LayerNorm3d(nn.LayerNorm):
    """LayerNorm over the channels of [B, C, D, H, W] (timm's LayerNorm2d, one axis more)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)


def conv(dims: int) -> type[nn.Module]:
    return nn.Conv3d if dims == 3 else nn.Conv2d


def channel_norm(channels: int, dims: int) -> nn.Module:
    return LayerNorm3d(channels) if dims == 3 else LayerNorm2d(channels)


class ConvNeXtBlock(nn.Module):
    """depthwise 7^d -> LayerNorm -> 1x1 (4x) -> GELU -> 1x1 -> layer scale -> residual (Liu et al. 2022)."""

    def __init__(self, channels: int, layer_scale: float = 1e-6, dims: int = 2):
        super().__init__()
        conv_op = conv(dims)
        self.dwconv = conv_op(channels, channels, 7, padding=3, groups=channels)
        self.norm = channel_norm(channels, dims)
        self.mlp = nn.Sequential(conv_op(channels, 4 * channels, 1), nn.GELU(), conv_op(4 * channels, channels, 1))
        self.gamma = nn.Parameter(torch.full((channels, *[1] * dims), layer_scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.gamma * self.mlp(self.norm(self.dwconv(x)))


def cumulative_strides(strides: Sequence[Sequence[int]]) -> list[tuple[int, ...]]:
    out, cur = [], (1,) * len(strides[0])
    for s in strides:
        cur = tuple(c * int(x) for c, x in zip(cur, s))
        out.append(cur)
    return out


class ScaledConvNeXtStream(nn.Module):
    """ConvNeXt stages at the plan's cumulative strides (never finer than the DWT's 1/2), `width_ratio` of the
    planned widths inside, projected to the planned widths on the way out: the stream is a second encoder, and
    at full width it would cost as much as the first."""

    def __init__(
        self,
        in_channels: int,
        widths: Sequence[int],
        strides: Sequence[Sequence[int]],
        depth: int = 1,
        width_ratio: float = 0.5,
    ):
        super().__init__()
        dims = len(strides[0])
        conv_op = conv(dims)
        out_widths, widths = list(widths), [max(8, int(w * width_ratio)) for w in widths]
        self.out = nn.ModuleList(conv_op(w, o, 1) for w, o in zip(widths, out_widths))
        self.stem = nn.Sequential(conv_op(in_channels, widths[0], 1), channel_norm(widths[0], dims))
        self.transitions, self.stages = nn.ModuleList(), nn.ModuleList()
        cur, width = (2,) * dims, widths[0]
        for w, target in zip(widths, cumulative_strides(strides)):
            ratio = tuple(max(1, t // c) for t, c in zip(target, cur))
            if ratio != (1,) * dims:  # ConvNeXt's downsampling layer: LayerNorm + strided conv
                self.transitions.append(
                    nn.Sequential(channel_norm(width, dims), conv_op(width, w, ratio, stride=ratio))
                )
            else:
                self.transitions.append(conv_op(width, w, 1) if w != width else nn.Identity())
            self.stages.append(nn.Sequential(*[ConvNeXtBlock(w, dims=dims) for _ in range(depth)]))
            cur, width = tuple(c * r for c, r in zip(cur, ratio)), w

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats, h = [], self.stem(x)
        for transition, stage, out in zip(self.transitions, self.stages, self.out):
            h = stage(transition(h))
            feats.append(out(h))
        return feats


class TimmConvNeXtStream(nn.Module):
    """timm ConvNeXt-Tiny (random init, `features_only`); stage k takes the timm stage nearest its stride."""

    TIMM_STRIDES = (8, 16, 32, 64)  # of the image: ConvNeXt strides 4..32 on the DWT's half resolution

    def __init__(self, in_channels: int, widths: Sequence[int], strides: Sequence[Sequence[int]]):
        super().__init__()
        import timm

        targets = [min(s) for s in cumulative_strides(strides)]
        nearest = [min(range(4), key=lambda i: abs(self.TIMM_STRIDES[i] - t)) for t in targets]
        used = sorted(set(nearest))  # timm builds no stage past the deepest one used: each one gets a gradient
        self.backbone = timm.create_model(
            "convnext_tiny", pretrained=False, features_only=True, in_chans=in_channels, out_indices=used
        )
        channels = self.backbone.feature_info.channels()
        self.source = [used.index(i) for i in nearest]
        self.proj = nn.ModuleList(nn.Conv2d(channels[i], w, 1) for i, w in zip(self.source, widths))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = self.backbone(x)
        return [p(feats[i]) for p, i in zip(self.proj, self.source)]


def build_frequency_stream(
    in_channels: int,
    widths: Sequence[int],
    strides: Sequence[Sequence[int]],
    patch_size: Sequence[int],
    backbone: str = "auto",
) -> nn.Module:
    if backbone == "auto":  # timm's ConvNeXt-Tiny is 2D: a 3D patch gets the scaled stream
        large = len(patch_size) == 2 and min(patch_size) >= CONVNEXT_TINY_MIN_PATCH
        backbone = "convnext_tiny" if large else "scaled"
    if backbone == "convnext_tiny":
        if len(patch_size) != 2:
            raise ValueError("frequency backbone 'convnext_tiny' is timm's 2D ConvNeXt-Tiny; a 3D patch takes 'scaled'")
        return TimmConvNeXtStream(in_channels, widths, strides)
    if backbone == "scaled":
        return ScaledConvNeXtStream(in_channels, widths, strides)
    raise ValueError(f"unknown frequency backbone '{backbone}' (auto, scaled, convnext_tiny)")
