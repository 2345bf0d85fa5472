"""Issue 5: Haar DWT, frequency stream, CMSG gate semantics, SemanticUNet on planned topologies."""

from __future__ import annotations

import numpy as np
import pytest
import pywt
import torch
from net_helpers import HIPPOCAMPUS, SEVEN_STAGE_512, plan_2d

from nnunet_semantic.networks import NetworkConfig, build_network
from nnunet_semantic.networks.cmsg import CMSGate, refine
from nnunet_semantic.networks.frequency import ScaledConvNeXtStream, TimmConvNeXtStream
from nnunet_semantic.networks.haar import HaarDWT
from nnunet_semantic.networks.heads.compose import compose_logits

RESENC = "dynamic_network_architectures.architectures.unet.ResidualEncoderUNet"


def build_semantic_unet(cm, in_channels: int, text_dim: int, fusion: str = "labels", deep_supervision: bool = True,
                        fusion_site: str | None = None, **config):
    return build_network(cm, in_channels, NetworkConfig(text_dim, head=fusion, site=fusion_site, **config),
                         deep_supervision)


def _text(b: int, dim: int = 32, has_neg=None) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    has_neg = torch.tensor(has_neg if has_neg is not None else [i % 2 for i in range(b)])
    return {"pos": torch.randn(b, dim, generator=g), "neg": torch.randn(b, dim, generator=g), "has_neg": has_neg}


def test_haar_dwt_matches_pywavelets():
    x = torch.randn(2, 3, 7, 10, dtype=torch.float64)
    out = HaarDWT()(x)
    assert out.shape == (2, 12, 4, 5)
    ll, (lh, hl, hh) = pywt.dwt2(x.numpy(), "haar", mode="zero", axes=(-2, -1))
    assert np.allclose(out.numpy(), np.concatenate([ll, lh, hl, hh], axis=1), atol=1e-12)


def test_haar_dwt_in_3d_gives_the_eight_bands_of_pywavelets():
    """Issue 37: a 3D patch's frequency stream reads the one-level 3D Haar DWT (8 bands per channel: LLL first)."""
    x = torch.randn(2, 3, 5, 7, 6, dtype=torch.float64)
    out = HaarDWT()(x)
    assert out.shape == (2, 24, 3, 4, 3)
    bands = pywt.dwtn(x.numpy(), "haar", mode="zero", axes=(-3, -2, -1))
    assert np.allclose(out.numpy(), np.concatenate([bands[k] for k in sorted(bands)], axis=1), atol=1e-12)
    assert HaarDWT()(torch.ones(1, 1, 4, 4, 4))[:, 1:].abs().max() < 1e-6  # a flat volume has no detail


def test_haar_detail_bands_see_texture_not_mean():
    flat = torch.ones(1, 1, 8, 8)
    checker = 1 + 0.5 * (torch.arange(8)[:, None] + torch.arange(8)[None]).remainder(2).float()[None, None] * 2 - 0.5
    assert HaarDWT()(flat)[:, 1:].abs().max() == 0
    assert HaarDWT()(checker)[:, 3].abs().min() > 0.9  # the HH band lights up on a checkerboard


def test_gate_semantics_exclusion_of_one_zeroes_refined_features():
    f = torch.randn(2, 8, 5, 4)
    assert torch.equal(refine(f, torch.ones(2, 1, 5, 4), torch.ones(2, 1, 5, 4)), torch.zeros_like(f))
    assert torch.equal(refine(f, torch.ones(2, 1, 5, 4), torch.zeros(2, 1, 5, 4)), f)
    gate = CMSGate(8, 16)
    with torch.no_grad():  # force G_exc = 1 everywhere: the fused features are the semantic features unchanged
        gate.query_exc.bias.fill_(1e4)
        gate.key.weight.zero_()
        gate.key.bias.fill_(1.0)
    f_sem = torch.randn(2, 8, 5, 4)
    fused, g_exc = gate(f_sem, f, torch.randn(2, 16), torch.randn(2, 16))
    assert torch.all(g_exc == 1) and torch.allclose(fused, f_sem)


def test_exclusion_composes_masks_as_set_logic():
    """p = p(target) * (1 - p(avoid)): a sure avoid removes the pixel, a sure non-avoid keeps p(target), and a
    prompt without exclusion is exactly its target logits."""
    target = torch.tensor([8.0, 8.0, -8.0, 0.3])
    avoid = torch.tensor([30.0, -30.0, -30.0, -30.0])
    p = torch.sigmoid(compose_logits(target, avoid, torch.ones(4, dtype=torch.bool)))
    assert p[0] < 1e-4 and torch.allclose(p[1:], torch.sigmoid(target[1:]), atol=1e-5)
    assert torch.equal(compose_logits(target, avoid, torch.zeros(4, dtype=torch.bool)), target)
    g = torch.randn(2, 3, requires_grad=True)
    compose_logits(g, torch.full((2, 3), 200.0), torch.tensor([[True] * 3, [False] * 3])).sum().backward()
    assert torch.isfinite(g.grad).all()


@pytest.mark.parametrize("fusion", ["labels", "query"])
def test_k_prompts_per_image_equal_one_at_a_time_and_centring_travels_with_the_weights(fusion):
    net = build_semantic_unet(plan_2d(**HIPPOCAMPUS), 1, 32, fusion, deep_supervision=False, num_labels=2).eval()
    net.centre.set_mean(torch.randn(5, 32))
    net.centre.set_vocabulary(torch.randn(7, 32), 100.0)
    text = _text(6, has_neg=[0, 1, 1, 0, 1, 0])
    batched = {k: v.reshape(2, 3, *v.shape[1:]) for k, v in text.items()}
    x = torch.randn(2, 1, 56, 40)
    with torch.no_grad():
        features = net.encode_image(x)
        together = net.decode(features, batched).logits[0]  # [B * K, 2, ...], prompt-major within an image
        alone = [net.decode(features, {k: v[:, j] for k, v in batched.items()}).logits[0] for j in range(3)]
    assert torch.allclose(together.reshape(2, 3, 2, 56, 40), torch.stack(alone, 1), atol=1e-5)
    other = build_semantic_unet(plan_2d(**HIPPOCAMPUS), 1, 32, fusion, deep_supervision=False, num_labels=2).eval()
    other.load_state_dict(net.state_dict())
    assert torch.equal(other.centre.mean, net.centre.mean) and torch.equal(other.centre.vocabulary,
                                                                          net.centre.vocabulary)
    with torch.no_grad():
        assert torch.allclose(other(x, batched).logits[0], together, atol=1e-5)


def test_an_unseen_text_is_read_as_its_nearest_training_texts_and_old_checkpoints_load():
    """Issue 14: a training text maps to itself, an unseen one to the mix of its nearest training texts; the
    vocabulary travels with the weights, and weights saved before it existed load without projection."""
    from nnunet_semantic.networks.text_centring import TextCentring

    torch.manual_seed(0)
    training = torch.nn.functional.normalize(torch.randn(20, 32), dim=-1)
    centre = TextCentring(32)
    centre.set_mean(training)
    centre.set_vocabulary(training, 100.0)
    plain = TextCentring(32)
    plain.set_mean(training)
    assert torch.allclose(centre(training), plain(training), atol=1e-4)  # a training text reads as itself
    unseen = training[3] + 0.6 * torch.nn.functional.normalize(torch.randn(32), dim=-1)
    assert torch.allclose(centre(unseen), plain(training[3]), atol=1e-3)
    assert not torch.allclose(plain(unseen), plain(training[3]), atol=0.1)
    loaded = TextCentring(32)
    loaded.load_state_dict(centre.state_dict())
    assert torch.allclose(loaded(unseen), centre(unseen))
    old = {"mean": centre.mean.clone()}  # a checkpoint from before the vocabulary
    loaded.load_state_dict(old)
    assert len(loaded.vocabulary) == 0 and torch.allclose(loaded(unseen), plain(unseen))


def test_frequency_stream_lines_up_with_planned_stages():
    stream = ScaledConvNeXtStream(4, [32, 64, 128, 256], [[1, 1], [2, 2], [2, 2], [2, 2]])
    feats = stream(HaarDWT()(torch.randn(2, 1, 56, 40)))
    assert [tuple(f.shape[1:]) for f in feats] == [(32, 28, 20), (64, 28, 20), (128, 14, 10), (256, 7, 5)]


@pytest.mark.parametrize("fusion,site", [("labels", "decoder"), ("query", "decoder"), ("cmsg", "encoder"),
                                         ("cmsg", "decoder")])
@pytest.mark.parametrize("topology,network", [(HIPPOCAMPUS, None), (HIPPOCAMPUS, RESENC), (SEVEN_STAGE_512, None)])
def test_forward_backward_on_planned_topologies(topology, network, fusion, site):
    cm = plan_2d(**topology, **({"network": network} if network else {}))
    net = build_semantic_unet(cm, 1, 32, fusion=fusion, fusion_site=site, num_labels=3)
    b = 2 if topology is HIPPOCAMPUS else 1
    x = torch.randn(b, 1, *topology["patch"])
    result = net(x, _text(b, has_neg=[1] * b))
    out = result.logits
    assert isinstance(out, (list, tuple)) and out[0].shape == (b, 2, *topology["patch"])
    assert len(out) == len(topology["features"]) - 1  # nnU-Net's deep-supervision outputs, largest first
    assert [o.shape[2] for o in out] == sorted((o.shape[2] for o in out), reverse=True)
    # a gate (or a pair of part logits) per encoder stage, or per decoder stage (every resolution but the bottleneck's)
    stages = result.parts if fusion in ("labels", "query") else result.exclusion_gates
    assert len(result.label_logits or []) == (len(stages) if fusion == "labels" else 0)
    assert len(stages) == len(topology["features"]) - (site == "decoder")
    assert isinstance(net.frequency, TimmConvNeXtStream if topology is SEVEN_STAGE_512 else ScaledConvNeXtStream)
    (sum(o.float().mean() for o in out) + sum(g.mean() for g in result.exclusion_gates or [])).backward()
    assert [n for n, p in net.named_parameters() if p.grad is None] == []


def _count_calls(modules) -> list[int]:
    counts = [0] * len(modules)
    for i, m in enumerate(modules):
        m.register_forward_hook(lambda *_, i=i: counts.__setitem__(i, counts[i] + 1))
    return counts


@pytest.mark.parametrize("fusion,site,decoder_runs", [("cmsg", "encoder", 3), ("cmsg", "decoder", 1),
                                                     ("query", "decoder", 1), ("labels", "decoder", 1)])
def test_prompts_reuse_the_image_features(fusion, site, decoder_runs):
    """Three prompts on one image: the encoders and the gate keys run once; the decoder once per prompt when the
    prompt meets the encoder, once in all when it meets the decoder."""
    net = build_semantic_unet(plan_2d(**HIPPOCAMPUS), 1, 32, fusion=fusion, fusion_site=site,
                              deep_supervision=False).eval()
    keys = [g.key for g in net.head.gates] if fusion == "cmsg" else []
    encoder = _count_calls([net.unet.encoder, net.frequency, *keys])
    decoder = _count_calls(list(net.unet.decoder.stages))
    x = torch.randn(2, 1, 56, 40)
    with torch.no_grad():
        features = net.encode_image(x)
        outs = [net.decode(features, _text(2, has_neg=[k % 2, 1])).logits[0] for k in range(3)]
        fresh = net(x, _text(2, has_neg=[0, 1])).logits[0]
    assert set(encoder[:2]) == {2} and set(encoder[2:]) <= {0, 2}  # twice: encode_image, then the fresh forward
    assert decoder == [decoder_runs + 1] * len(decoder)
    assert torch.allclose(outs[0], fresh, atol=1e-5) and outs[0].shape == (2, 2, 56, 40)


@pytest.mark.parametrize("fusion", ["labels", "query", "cmsg"])
def test_decoder_site_full_resolution_output_does_not_depend_on_deep_supervision(fusion):
    net = build_semantic_unet(plan_2d(**HIPPOCAMPUS), 1, 32, fusion=fusion, fusion_site="decoder").eval()
    x, text = torch.randn(2, 1, 56, 40), _text(2)
    with torch.no_grad():
        supervised = net(x, text).logits
        net.decoder.deep_supervision = False
        single = net(x, text)
    assert len(single.parts or single.exclusion_gates) == len(single.logits) == 1
    assert torch.allclose(supervised[0], single.logits[0], atol=1e-6)


@pytest.mark.parametrize("fusion", ["labels", "query", "cmsg"])
def test_missing_negatives_are_ignored(fusion):
    net = build_semantic_unet(plan_2d(**HIPPOCAMPUS), 1, 32, fusion=fusion)
    text = _text(2, has_neg=[0, 0])
    other = {**text, "neg": torch.randn(2, 32)}
    x = torch.randn(2, 1, 56, 40)
    with torch.no_grad():
        a, b = net(x, text).logits[0], net(x, other).logits[0]
    assert torch.allclose(a, b)  # with has_neg = 0 the given negatives are ignored
    with torch.no_grad():
        c = net(x, {**other, "has_neg": torch.tensor([1, 1])}).logits[0]
    assert not torch.allclose(a, c)


@pytest.mark.parametrize("fusion,frequency_input", [("alpha", "dwt"), ("cmsg", "raw"), ("concat", "dwt")])
def test_ablation_networks(fusion, frequency_input):
    net = build_semantic_unet(plan_2d(**HIPPOCAMPUS), 1, 32, fusion=fusion, frequency_input=frequency_input)
    out = net(torch.randn(2, 1, 56, 40), _text(2))
    (sum(o.mean() for o in out.logits) + sum(g.mean() for g in out.exclusion_gates or [])).backward()
    assert [n for n, p in net.named_parameters() if p.grad is None] == []
    assert (out.exclusion_gates is not None) == (fusion == "cmsg")


def test_biomedclip_semantic_stream_uses_the_loaders_weights(tiny_biomedclip, monkeypatch):
    monkeypatch.setenv("NNUNET_SEMANTIC_BIOMEDCLIP_DIR", str(tiny_biomedclip))
    net = build_semantic_unet(plan_2d(**HIPPOCAMPUS), 1, 32, semantic_stream="biomedclip")
    saved = torch.load(tiny_biomedclip / "open_clip_pytorch_model.bin", weights_only=True)
    assert torch.equal(net.vit.trunk.blocks[0].attn.qkv.weight, saved["visual.trunk.blocks.0.attn.qkv.weight"])
    trainable = {n.split(".")[3] for n, p in net.named_parameters() if n.startswith("vit.trunk.blocks")
                 and p.requires_grad}
    assert trainable == {"9", "10", "11"}
    out = net(torch.randn(2, 1, 56, 40), _text(2))
    sum(o.mean() for o in out.logits).backward()
    assert [n for n, p in net.named_parameters() if p.requires_grad and p.grad is None] == []
    assert net.vit.trunk.blocks[0].attn.qkv.weight.grad is None  # frozen


def test_biomedclip_semantic_stream_without_weights_warns(monkeypatch, tmp_path):
    monkeypatch.delenv("NNUNET_SEMANTIC_BIOMEDCLIP_DIR", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    from nnunet_semantic.networks.biomedclip_stream import BiomedCLIPStream

    with pytest.warns(UserWarning, match="random weights"):
        stream = BiomedCLIPStream(1, 64)
    assert stream.trunk.embed_dim == 768 and len(stream.trunk.blocks) == 12


def test_describe_names_the_frequency_backbone_auto_chose_and_its_size():
    small = build_semantic_unet(plan_2d(**HIPPOCAMPUS), 1, 32, "labels", num_labels=2).describe()
    large = build_semantic_unet(plan_2d(**SEVEN_STAGE_512), 1, 32, "labels", num_labels=2).describe()
    assert "ScaledConvNeXtStream" in small and "chosen by 'auto' for patch [56, 40]" in small
    assert "TimmConvNeXtStream" in large and "chosen by 'auto' for patch [512, 512]" in large
    sizes = [float(x.split(" M")[0].split()[-1]) for x in large.split("frequency stream ")[1:]]
    assert sizes[0] > 10  # ConvNeXt-Tiny's stages, said before training starts


@pytest.mark.parametrize("head", ["labels", "query"])
def test_the_prediction_path_equals_the_composed_training_output(head):
    """`foreground` (what prediction reads; the `labels` head composes it in probabilities, and unions an exclusion
    only where a prompt has one) equals the full-resolution output of the training forward, exclusions included."""
    cm = plan_2d(**HIPPOCAMPUS)
    torch.manual_seed(0)
    net = build_network(cm, 1, NetworkConfig(16, num_labels=2, head=head), deep_supervision=False).eval()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 1, *HIPPOCAMPUS["patch"], generator=g)
    text = {"pos": torch.randn(2, 5, 16, generator=g), "neg": torch.randn(2, 5, 16, generator=g),
            "has_neg": torch.tensor([[True, False, True, False, False]] * 2)}
    with torch.no_grad():
        features = net.encode_image(x)
        full = net.decode(features, text).logits[0].float()
        fast = net.foreground(features, text)
    torch.testing.assert_close(fast, (full[:, 1] - full[:, 0]).unflatten(0, (2, 5)), atol=1e-4, rtol=1e-4)
