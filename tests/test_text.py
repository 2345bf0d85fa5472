"""Issue 4: text encoders (offline MiniLM, BiomedCLIP from a local folder) and the embedding bank."""

from __future__ import annotations

import hashlib
import socket
import warnings

import numpy as np
import pytest
from helpers import TINY_BERT, TINY_CFG, VOCAB

from nnunet_semantic import cli
from nnunet_semantic.errors import SemanticError
from nnunet_semantic.text import TextEncoder, get_encoder
from nnunet_semantic.text.bank import EmbeddingBank, bank_path, build_bank
from nnunet_semantic.text.biomedclip import load_biomedclip, write_random_folder


@pytest.fixture(scope="module")
def minilm():
    return get_encoder("minilm", device="cpu")


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_minilm_offline_with_real_semantics(minilm, no_network):
    assert isinstance(minilm, TextEncoder) and minilm.dim == 384 and len(minilm.fingerprint) == 16
    v = minilm.encode(["kidney", "renal organ", "hippocampus"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2


def test_minilm_batching_does_not_change_vectors(minilm):
    texts = [f"structure number {i}" for i in range(7)]
    small = get_encoder("minilm", device="cpu", batch_size=2)
    assert np.allclose(small.encode(texts), minilm.encode(texts), atol=1e-5)
    assert minilm.encode([]).shape == (0, 384)


def test_unknown_encoder_is_a_clear_error():
    with pytest.raises(SemanticError, match="unknown text encoder 'clip'.*minilm, biomedclip"):
        get_encoder("clip")


def test_biomedclip_loads_from_local_folder_without_network(tiny_biomedclip, no_network):
    enc = get_encoder("biomedclip", source=f"local-dir:{tiny_biomedclip}", device="cpu", batch_size=2)
    assert enc.dim == 16
    v = enc.encode(["kidney excluding the tumor", "renal organ", "liver", "kidney"])
    assert v.shape == (4, 16) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    again = get_encoder(f"local-dir:{tiny_biomedclip}", device="cpu")
    assert np.allclose(again.encode(["liver"]), v[2], atol=1e-5) and again.fingerprint == enc.fingerprint
    # the vision tower comes from the same loader, with the checkpoint's weights
    clip = load_biomedclip(f"local-dir:{tiny_biomedclip}", device="cpu")
    import torch

    saved = torch.load(tiny_biomedclip / "open_clip_pytorch_model.bin", weights_only=True)
    name = next(k for k in saved if k.startswith("visual."))
    assert torch.equal(clip.model.state_dict()[name], saved[name])
    assert clip.model.encode_image(torch.zeros(1, 3, 224, 224)).shape == (1, 16)


def test_biomedclip_fingerprint_follows_the_weights(tiny_biomedclip, tmp_path):
    other = write_random_folder(tmp_path / "other", VOCAB, TINY_CFG, TINY_BERT, seed=1)
    a = get_encoder(f"local-dir:{tiny_biomedclip}", device="cpu")
    b = get_encoder(f"local-dir:{other}", device="cpu")
    assert a.fingerprint != b.fingerprint


def test_biomedclip_missing_files_say_what_to_put_where(tmp_path, tiny_biomedclip):
    folder = tmp_path / "partial"
    folder.mkdir()
    (folder / "open_clip_config.json").write_text((tiny_biomedclip / "open_clip_config.json").read_text())
    with pytest.raises(SemanticError, match=r"lacks config.json, vocab.txt, open_clip_model.safetensors or "
                                            r"open_clip_pytorch_model.bin: download it once with --source hf-hub, "
                                            r"or put BiomedCLIP in a folder"):
        load_biomedclip(f"local-dir:{folder}")
    with pytest.raises(SemanticError, match="not found"):
        load_biomedclip(f"local-dir:{tmp_path / 'nowhere'}")


def test_biomedclip_from_hub_offline_without_cache_is_a_clear_error(tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("NNUNET_SEMANTIC_BIOMEDCLIP_DIR", raising=False)
    with pytest.raises(SemanticError, match="could not be loaded from the hub .*local-dir:FOLDER"):
        load_biomedclip("hf-hub")


class CountingEncoder:
    """A deterministic stand-in that records what it was asked to encode (the bank's logic only)."""

    name = "counting"
    dim = 8

    def __init__(self, fingerprint: str = "a"):
        self.fingerprint = fingerprint
        self.calls: list[list[str]] = []

    def encode(self, texts):
        self.calls.append(list(texts))
        v = np.array([np.frombuffer(hashlib.sha256((self.fingerprint + t).encode()).digest()[:8], np.uint8)
                      for t in texts], np.float32).reshape(-1, self.dim) + 1
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_bank_is_incremental(tmp_path):
    enc = CountingEncoder()
    bank, n = build_bank(tmp_path, enc, ["kidney", "tumor", "kidney"])
    assert n == 2 and enc.calls == [["kidney", "tumor"]]
    bank2, n2 = build_bank(tmp_path, enc, ["kidney", "cyst"])
    assert n2 == 1 and enc.calls[-1] == ["cyst"] and len(bank2) == 3
    assert np.allclose(bank2.get(["kidney"]), bank.get(["kidney"]))
    assert np.allclose(EmbeddingBank.load(bank_path(tmp_path, "counting")).get(["cyst"]), enc.encode(["cyst"]))
    with pytest.raises(KeyError, match="liver"):
        bank2.get(["liver"])


def test_bank_fingerprint_mismatch_reencodes_and_never_mixes(tmp_path):
    build_bank(tmp_path, CountingEncoder("a"), ["kidney", "tumor"])
    other = CountingEncoder("b")
    with pytest.warns(UserWarning, match="other counting weights"):
        bank, n = build_bank(tmp_path, other, ["cyst"])
    assert n == 1 and bank.texts == ["cyst"] and bank.fingerprint == "b"
    assert EmbeddingBank.load(bank_path(tmp_path, "counting")).fingerprint == "b"


def test_corrupt_bank_is_rebuilt_with_a_warning(tmp_path):
    path = bank_path(tmp_path, "counting")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an npz")
    with pytest.warns(UserWarning, match="unreadable"):
        bank, n = build_bank(tmp_path, CountingEncoder(), ["kidney"])
    assert n == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert EmbeddingBank.load(path).texts == ["kidney"]


def test_embed_cli_writes_the_bank_for_a_converted_dataset(nnunet_env, capsys):
    from nnunet_semantic.dataset_conversion.phantom import convert_phantom
    from nnunet_semantic.prompts.sidecar import read_sidecar_folder

    raw = convert_phantom(60, cases=3, test_cases=1)
    assert cli.main(["embed", "-d", "60", "--device", "cpu"]) == 0
    assert "newly encoded" in capsys.readouterr().out
    bank = EmbeddingBank.load(nnunet_env / "nnUNet_preprocessed" / raw.name / "text_embeddings" / "minilm.npz")
    prompts = [p for ps in read_sidecar_folder(raw / "prompts").values() for p in ps]
    needed = {t for p in prompts for t in (p.text, p.pos_text, p.neg_text) if t} | {"organ", "lesion"}
    assert needed <= set(bank.texts) and bank.vectors.shape == (len(bank.texts), 384)
    assert cli.main(["embed", "-d", "60", "--device", "cpu"]) == 0
    assert ", 0 newly encoded" in capsys.readouterr().out
