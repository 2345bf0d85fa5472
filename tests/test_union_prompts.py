"""A target of several structures that no one structure is ("the kidneys" of a dataset labelled `kidney_left` and
`kidney_right`) is answered as the union of each structure's answer: a model trains on each structure's name, never
on a list of names as its target, and a trained one reads "X and Y" as X (benchmarks/union_prompts.py: Dice 0.51-0.57
as one text against 0.80 by parts, a hippocampus model whose ontology lacks the whole)."""

from __future__ import annotations

import pytest
import torch
from net_helpers import plan_2d

from nnunet_semantic.inference.predictor import SemanticPredictor
from nnunet_semantic.networks import NetworkConfig, build_network

ONTOLOGY = {"version": 1, "structures": {
    "kidney left": {"labels": [1], "names": ["kidney left"]},
    "kidney right": {"labels": [2], "names": ["kidney right"]},
}}


class FirstName(dict):
    """A stand-in text encoder that reads a text as the first side it names, as a trained model reads a list."""

    def __contains__(self, text) -> bool:
        return True

    def __missing__(self, text: str):
        sides = [w for w in text.split() if w in ("left", "right")]
        return torch.nn.functional.one_hot(torch.tensor(1 + (sides[:1] == ["right"])), 8).float().numpy()


def _predictor(ontology: dict) -> SemanticPredictor:
    """A tiny network whose `labels` head reads the left vector as label 1 and the right one as label 2."""
    torch.manual_seed(0)
    network = build_network(plan_2d((32, 32), (8, 16, 32)), 1, NetworkConfig(8, num_labels=2, head="labels"),
                            deep_supervision=False)
    first, last = network.head.mlp[0], network.head.mlp[2]
    with torch.no_grad():
        for layer in (first, last):
            layer.weight.zero_(), layer.bias.zero_()
        first.weight[:3, :3] = torch.eye(3)
        last.weight[:, :3] = torch.tensor([[-10.0, 10.0, -10.0], [-10.0, -10.0, 10.0]])
    predictor = SemanticPredictor(device=torch.device("cpu"), verbose=False, allow_tqdm=False)
    predictor.network, predictor.list_of_parameters = network.eval(), [network.state_dict()]
    predictor.use_card({"ontology": ontology, "text_encoder": "words", "encoder_fingerprint": "words"}, "test")
    predictor._vectors = FirstName()
    return predictor


def _labels() -> torch.Tensor:
    """Label logits [background, left, right] of a slice: the left kidney in the top half, the right one below."""
    logits = torch.full((3, 1, 8, 8), -10.0)
    logits[1, :, :4], logits[2, :, 4:] = 10.0, 10.0
    return logits


@pytest.mark.parametrize("text,top,bottom", [
    ("the kidneys", True, True),
    ("kidney right and kidney left", True, True),
    ("both kidneys except the left one", False, True),
    ("kidney left", True, False),
])
def test_a_union_of_structures_is_the_union_of_their_answers(text, top, bottom):
    predictor = _predictor(ONTOLOGY)
    prompt = predictor.resolve(text)
    mask = predictor.answer_logits(torch.zeros(1, 1, 8, 8), [prompt], [_labels()])[0] > 0
    assert (bool(mask[:, :4].all()), bool(mask[:, 4:].all())) == (top, bottom), prompt.explain()
    assert not (mask[:, :4].any() and not top) and not (mask[:, 4:].any() and not bottom)


def test_as_one_text_the_list_is_read_as_its_first_name():
    """What the union's parts mend: the same prompt given as one text answers one kidney."""
    predictor = _predictor(ONTOLOGY)
    prompt = predictor.resolve("the kidneys")
    assert prompt.parts == ("kidney left", "kidney right")
    whole = predictor.answer_logits(torch.zeros(1, 1, 8, 8), [prompt], [_labels()])[0] > 0
    one_text = predictor.prompt_logits(torch.zeros(1, 1, 8, 8), predictor.encode_prompts([prompt]), [_labels()])[0] > 0
    assert whole.all() and one_text[:, :4].all() and not one_text[:, 4:].any()


def test_a_structure_that_is_the_union_is_read_whole_not_in_parts():
    both = {"structures": {**ONTOLOGY["structures"], "kidneys": {"labels": [1, 2], "names": ["kidneys"]}}}
    prompt = _predictor(both).resolve("kidney left and kidney right")
    assert (prompt.pos_text, prompt.parts) == ("kidneys", ())
