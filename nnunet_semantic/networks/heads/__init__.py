"""Prompt heads: how a prompt meets the image features, one module per family, chosen by name (the timm way).

- `labels` (default): the text reads which of the dataset's labels it names; nnU-Net's own label softmax is the
  image path, the mask their product. Structures are sets of label ids, so this is the set algebra itself.
- `query`: the text generates each decoder stage's classifier (SAT's query path, VoxTell).
- `cmsg`, `alpha`: the papers' additive gates in front of nnU-Net's fixed classifier (the first design, kept as the
  baseline it is: trained through nnU-Net it painted the same mask for sibling prompts).
- `concat`: the text tiled and concatenated at the bottleneck (a UNet-CLIP baseline).
"""

from nnunet_semantic.networks.heads.base import HEADS, PromptHead, register_head
from nnunet_semantic.networks.heads.concat import TextConcatHead
from nnunet_semantic.networks.heads.gates import AlphaFusionHead, GatedFusionHead
from nnunet_semantic.networks.heads.labels import LabelsHead
from nnunet_semantic.networks.heads.query import QueryHead

__all__ = [
    "HEADS",
    "AlphaFusionHead",
    "GatedFusionHead",
    "LabelsHead",
    "PromptHead",
    "QueryHead",
    "TextConcatHead",
    "register_head",
]
