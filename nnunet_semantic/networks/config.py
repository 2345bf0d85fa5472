"""The network's config: what decides a SemanticUNet besides nnU-Net's plans (the open_clip lesson: configs are data).

Frozen and serialisable; built once by the trainer from its recipe, stored with the weights (`card.py`) and read back
by the predictor, so a checkpoint always rebuilds the network that wrote it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

FREQUENCY_INPUTS = ("dwt", "raw")  # "raw": the no-frequency ablation (the stream sees the image, not its bands)
FREQUENCY_BACKBONES = ("auto", "scaled", "convnext_tiny")
SEMANTIC_STREAMS = ("unet", "biomedclip")


@dataclass(frozen=True)
class NetworkConfig:
    text_dim: int
    num_labels: int = 1  # the dataset's foreground labels (the `labels` head reads which of them a prompt names)
    head: str = "labels"  # a name in `networks.heads.HEADS`
    site: str | None = None  # where the prompt meets the image, "decoder" or "encoder"; None: the head's default
    frequency_input: str = "dwt"
    frequency_backbone: str = "auto"
    semantic_stream: str = "unet"

    def __post_init__(self):
        from nnunet_semantic.networks.heads import HEADS

        if self.head not in HEADS:
            raise ValueError(f"head must be one of {tuple(HEADS)}, got '{self.head}'")
        sites = HEADS[self.head].sites
        site = sites[0] if self.site is None else self.site
        if site not in sites:
            raise ValueError(f"the '{self.head}' head meets the image at {sites}, not '{site}'")
        object.__setattr__(self, "site", site)
        for name, allowed in (
            ("frequency_input", FREQUENCY_INPUTS),
            ("frequency_backbone", FREQUENCY_BACKBONES),
            ("semantic_stream", SEMANTIC_STREAMS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got '{getattr(self, name)}'")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> NetworkConfig:
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown network config fields {sorted(unknown)}: written by a newer nnunet_semantic?")
        return cls(**values)
