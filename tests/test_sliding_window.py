"""Issue 13: prompted prediction through nnU-Net's sliding window (tiles, Gaussian weighting) and mirroring."""

from __future__ import annotations

import pytest
import torch
from net_helpers import plan_2d

from nnunet_semantic.inference.predictor import PromptedNetwork, SemanticPredictor
from nnunet_semantic.networks import NetworkConfig, build_network

PATCH = (32, 32)


def _texts(k: int = 3, dim: int = 8) -> list[dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(1)
    return [{"pos": torch.randn(dim, generator=g), "neg": torch.randn(dim, generator=g),
             "has_neg": torch.tensor(i == 2)} for i in range(k)]


def _predictor(mirror_axes=None, gaussian: bool = True) -> SemanticPredictor:
    configuration = plan_2d(PATCH, (8, 16, 32))
    torch.manual_seed(0)
    network = build_network(configuration, 1, NetworkConfig(8, num_labels=2), deep_supervision=False).eval()
    predictor = SemanticPredictor(tile_step_size=0.5, use_gaussian=gaussian, use_mirroring=mirror_axes is not None,
                                  device=torch.device("cpu"), verbose=False, allow_tqdm=False)
    predictor.network, predictor.configuration_manager, predictor.list_of_parameters = network, configuration, None
    predictor.allowed_mirroring_axes = mirror_axes
    predictor.prompt_chunk = 2  # 3 prompts: two passes, as a long prompt list would take
    return predictor


def _image(*shape: int, noise: float = 0.1) -> torch.Tensor:
    y, x = torch.meshgrid(torch.linspace(0, 6, shape[-2]), torch.linspace(0, 6, shape[-1]), indexing="ij")
    g = torch.Generator().manual_seed(2)
    return (torch.sin(y) * torch.cos(x) + noise * torch.randn(shape, generator=g)).float()


def test_a_patch_sized_image_equals_one_forward_pass():
    predictor, texts = _predictor(), _texts()
    image = _image(1, 1, *PATCH)
    logits = predictor.prompt_logits(image, texts)
    with torch.inference_mode():
        direct = PromptedNetwork(predictor.network, texts)(image[:, 0][None])[0]
    assert logits.shape == (3, 1, *PATCH)
    torch.testing.assert_close(logits[:, 0], direct, atol=2e-2, rtol=1e-2)  # nnU-Net accumulates in float16


class TileMean(torch.nn.Module):
    """A stand-in network whose answer is constant over a tile (the tile's mean intensity): on a ramp, each tile
    answers differently, so how tiles are blended shows as steps or as a smooth transition."""

    def encode_image(self, x):
        return x

    def foreground(self, features, text):
        b, k = text["pos"].shape[:2]
        return features.mean(dim=(1, 2, 3))[:, None, None, None].repeat(1, k, *features.shape[2:])


def test_tiles_cover_a_large_image_and_blend_without_seams():
    """An image 2.5 patches in each axis: every voxel is predicted, and the Gaussian importance weighting turns the
    steps between tiles (uniform weighting) into a smooth blend."""
    ramp = torch.linspace(0, 10, 80)[None, None, None].expand(1, 1, 80, 80).clone()
    steps = {}
    for gaussian in (True, False):
        predictor = _predictor(gaussian=gaussian)
        predictor.network = TileMean()
        logits = predictor.prompt_logits(ramp, _texts())
        assert logits.shape == (3, 1, 80, 80) and torch.isfinite(logits).all()
        steps[gaussian] = (logits[..., 1:] - logits[..., :-1]).abs().max().item()
    assert steps[True] < 0.5 * steps[False], steps
    predictor = _predictor()
    logits = predictor.prompt_logits(_image(1, 1, 80, 80), _texts())  # the real network: covered, finite
    assert logits.shape == (3, 1, 80, 80) and torch.isfinite(logits).all() and logits.std() > 0


def test_mirroring_makes_a_mirror_symmetric_input_give_a_symmetric_prediction():
    image = _image(1, 1, *PATCH)
    image = image + image.flip(-1)  # symmetric left-right
    plain = _predictor().prompt_logits(image, _texts())
    mirrored = _predictor(mirror_axes=(0, 1)).prompt_logits(image, _texts())
    torch.testing.assert_close(mirrored, mirrored.flip(-1), atol=2e-2, rtol=1e-2)
    assert (plain - plain.flip(-1)).abs().max() > 10 * (mirrored - mirrored.flip(-1)).abs().max()


@pytest.mark.parametrize("chunk", [1, 16])
def test_prompt_chunks_do_not_change_the_answer(chunk):
    predictor, texts, image = _predictor(), _texts(), _image(1, 2, 40, 36)
    reference = predictor.prompt_logits(image, texts)
    predictor.prompt_chunk = chunk
    torch.testing.assert_close(predictor.prompt_logits(image, texts), reference)


def _per_tile(predictor: SemanticPredictor) -> SemanticPredictor:
    """The same network answering each prompt per tile (as a head that cannot compose from labels does)."""
    predictor.network.head.composes_labels = False
    return predictor


def test_the_labels_head_runs_the_network_once_per_tile_for_any_number_of_prompts():
    """Prompts are composed from one sliding window over the label logits: 40 prompts cost the tiles of one, where
    answering them per tile re-runs the image part for every chunk that fits the buffer (a large volume's case),
    and every prompt's answer is the per-tile path's up to how overlapping tiles are blended."""
    image, calls = _image(1, 1, 80, 72), []
    for k, path in ((1, "composed"), (40, "composed"), (40, "per tile")):
        predictor = _predictor() if path == "composed" else _per_tile(_predictor())
        predictor.prompt_chunk, predictor.CHUNK_BUFFER_BYTES = None, 16 * 2 * 80 * 72  # the buffer: 16 prompts
        encode = predictor.network.encode_image
        predictor.network.encode_image = lambda x, encode=encode, key=(k, path): calls.append(key) or encode(x)
        assert predictor.prompt_logits(image, _texts(k)).shape == (k, 1, 80, 72)
    tiles = 16  # 4 x 4 tiles of 32 at step 0.5
    assert calls.count((1, "composed")) == calls.count((40, "composed")) == tiles
    assert calls.count((40, "per tile")) == 3 * tiles  # chunks of 16, 16 and 8 prompts
    per_tile = _per_tile(_predictor()).prompt_logits(image, _texts())
    composed = _predictor().prompt_logits(image, _texts())
    agree = ((per_tile > 0) == (composed > 0)).float().mean()
    gap = (torch.sigmoid(per_tile) - torch.sigmoid(composed)).abs().mean()
    assert agree > 0.99 and gap < 0.01, (agree, gap)


def test_label_logits_kept_answer_later_prompts_without_the_network():
    """What the napari plugin does: the image's label logits kept, a later prompt composed from them equals the
    full prediction, and the network does not run; a head that does not compose labels has none to keep."""
    predictor, image, calls = _predictor(), _image(1, 1, 40, 36), []
    labels = predictor.label_logits(image, {})
    encode = predictor.network.encode_image
    predictor.network.encode_image = lambda x: calls.append(1) or encode(x)
    kept = predictor.prompt_logits(image, _texts(), labels)
    assert calls == []
    torch.testing.assert_close(kept, predictor.prompt_logits(image, _texts()))
    assert len(calls) > 0 and _per_tile(_predictor()).label_logits(image, {}) is None
