"""How a predictor reads prompts: by the model's card (its ontology, the text encoder it was trained with), a prompt
the ontology cannot read answered from its free text only when it lies as close to the model's wordings as its
held-out wordings do, and never when it is nearer to a structure the model does not know."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import torch

from nnunet_semantic.errors import PromptError, SemanticError, UnknownPart, UnknownStructure
from nnunet_semantic.inference.resolved_prompt import ResolvedPrompt
from nnunet_semantic.prompts.anatomy import ANATOMY
from nnunet_semantic.prompts.ontology import Ontology
from nnunet_semantic.prompts.parser import parse, split_exclusion
from nnunet_semantic.prompts.reading import ParsedPrompt
from nnunet_semantic.prompts.wording import heldout_wordings
from nnunet_semantic.text import get_encoder


class PromptReader:
    """Mixed into SemanticPredictor: `use_card` sets what it reads by; `device` is the predictor's."""

    device: torch.device
    # a wording of the ontology that the model reads as other labels than the ontology's is given as its structures'
    # names (`_as_the_model_reads`); off: every wording as written (how the benchmarks measure the text path alone)
    check_readings = True

    def use_card(self, card: dict, where: str) -> None:
        self.semantic = {k: v for k, v in card.items() if k != "config"}
        self.ontology = Ontology.from_dict(card["ontology"], where) if card.get("ontology") else None
        self._encoder, self._vectors, self._threshold, self._labels_read = None, {}, None, {}
        self.threshold_basis: dict | None = None  # set with the threshold: what it was calibrated on

    @property
    def encoder(self):
        """The model's text encoder, loaded at first use (the validation's texts come encoded from the trainer's
        bank); one whose fingerprint is not the model's is an error."""
        if self._encoder is None:
            name, fingerprint = self.semantic["text_encoder"], self.semantic["encoder_fingerprint"]
            encoder = get_encoder(name, device=self.device.type)
            if encoder.fingerprint != fingerprint:
                raise SemanticError(
                    f"the installed {name} text encoder ({encoder.fingerprint}) is not the one this "
                    f"model was trained with ({fingerprint})"
                )
            self._encoder = encoder
        return self._encoder

    # --- prompts ----------------------------------------------------------------------------------
    def resolve(self, text: str, strict: bool = False, allow_unknown: bool = False) -> ResolvedPrompt:
        """The ontology's reading of a prompt. A target the ontology cannot read is answered from its free text
        only when its text lies within `unknown_threshold` of the model's wordings, or under `allow_unknown`
        (marked); an exclusion the ontology cannot read, "not X" alone, an empty or ambiguous prompt are refused
        with what to write instead. `strict` refuses all free text."""
        known = ", ".join(sorted(self.ontology.structures)) if self.ontology else "none"
        try:
            if self.ontology is None:
                raise UnknownStructure("the model carries no ontology")
            parsed = parse(text, self.ontology)
        except UnknownStructure as e:
            try:  # a prompt whose exclusion cannot be placed is refused: never encoded as one target text
                pos_text, neg_text = split_exclusion(text)
            except PromptError as split:
                raise SemanticError(f"{split}. Known structures: {known}") from None
            if self.semantic.get("merged_prompt") or not neg_text:
                pos_text, neg_text = " ".join(text.split()), ""
            nearest = None if strict else self.nearest_structure(pos_text)
            close = self.ontology is None or (nearest is not None and not nearest["low_confidence"])
            named = e.role == "exclusion" or isinstance(e, UnknownPart)  # read by its words, and not there
            if strict or not allow_unknown and (named or not close):
                why = (
                    ""
                    if strict or named
                    else (
                        f"; its text is far from every structure the model knows (nearest '{nearest['structure']}', "
                        f"similarity {nearest['similarity']:.2f} < {nearest['threshold']:.2f})"
                    )
                )
                raise SemanticError(
                    f"{e}{why}. Known structures: {known}"
                    + ("" if strict else "; --allow-unknown answers it from its free text")
                ) from None
            if neg_text and nearest and e.role == "target":
                neg_text = self._exclusion_within(nearest, neg_text, allow_unknown, known)
            confidence = (
                f"; nearest known structure '{nearest['structure']}' (text similarity "
                f"{nearest['similarity']:.2f}{', low confidence' if nearest['low_confidence'] else ''})"
                if nearest
                else ""
            )
            warnings.warn(
                f"{e}; segmenting from the free text"
                + (f" ('{pos_text}' excluding '{neg_text}')" if neg_text else "")
                + confidence,
                stacklevel=2,
            )
            return ResolvedPrompt(text, pos_text, neg_text, None, nearest)
        except PromptError as e:
            raise SemanticError(f"{e}. Known structures: {known}") from None
        if parsed.avoid and not self.semantic.get("merged_prompt"):
            pos, neg = parsed.pos_text, parsed.neg_text
        elif parsed.as_written:  # encoded as written (typos corrected), as training encodes it
            pos, neg = parsed.respelled or " ".join(text.split()), ""
        else:
            pos, neg = f"{parsed.pos_text} excluding {parsed.neg_text}" if parsed.avoid else parsed.pos_text, ""
        return self._as_the_model_reads(self._as_a_union(ResolvedPrompt(text, pos, neg, parsed.to_dict())), parsed)

    def _as_a_union(self, prompt: ResolvedPrompt) -> ResolvedPrompt:
        """A target of several structures no one structure is ("the kidneys" of `kidney_left` / `kidney_right`,
        "the liver and the spleen") is answered as the union of each structure's answer: a model trains on each
        structure's name, never on a list of them as its target, and reads "X and Y" as X."""
        structures = [self.ontology.structures[n] for n in prompt.parse["target_structures"]]
        union = frozenset().union(*(s.labels for s in structures))
        if len(structures) < 2 or self.semantic.get("merged_prompt") or self.ontology.exactly(union):
            return prompt
        return replace(prompt, parts=tuple(dict.fromkeys(s.name for s in structures)))

    def answer_logits(self, data, prompts: list[ResolvedPrompt], labels=None) -> torch.Tensor:
        """`prompt_logits` of resolved prompts [K, *spatial]; a union's logit is the largest of its parts'."""
        each = [replace(p, pos_text=t, parts=()) for p in prompts for t in p.parts or [p.pos_text]]
        logits = self.prompt_logits(data, self.encode_prompts(each), labels)
        bounds = np.cumsum([0, *(len(p.parts) or 1 for p in prompts)])
        if bounds[-1] == len(prompts):
            return logits
        return torch.stack([logits[a:b].amax(0) for a, b in zip(bounds[:-1], bounds[1:])])

    def _as_the_model_reads(self, prompt: ResolvedPrompt, parsed: ParsedPrompt) -> ResolvedPrompt:
        """The ontology says which labels its wordings name. A wording the model never trained on may land among
        another structure's wordings ("the entire hippocampus from head to tail", read as its tail, made "... except
        its tail" an empty mask): a text the model reads as other labels is given as its structures' names, where
        the model reads those right, and the parse records it (`model_reading`)."""
        if not self.check_readings or prompt.parts:  # a union's parts are its structures' names
            return prompt

        def named(structures: tuple[str, ...]) -> str:
            return " and ".join(structures)

        target, avoid = set(parsed.target), set(parsed.avoid)
        if prompt.neg_text:
            parts = {
                "pos_text": (target, named(parsed.target_structures)),
                "neg_text": (avoid, named(parsed.avoid_structures)),
            }
        else:
            parts = {
                "pos_text": (
                    target - avoid,
                    named(parsed.target_structures) + (f" excluding {named(parsed.avoid_structures)}" if avoid else ""),
                )
            }
        texts = {field: getattr(prompt, field) for field in parts}
        read = self.labels_read([*texts.values(), *(names for _, names in parts.values())])
        if read is None:
            return prompt
        given, notes = {}, []
        for field, (labels, names) in parts.items():
            written = texts[field]
            if set(read[written]) == labels:
                continue
            note = {"text": written, "read_as": list(read[written]), "labels": sorted(labels)}
            if set(read[names]) == labels:
                given[field] = note["given"] = names
            notes.append(note)
        return replace(prompt, **given, parse={**prompt.parse, "model_reading": notes}) if notes else prompt

    def labels_read(self, texts: list[str]) -> dict[str, tuple[int, ...]] | None:
        """text -> the labels the model reads it as naming (the folds' mean membership above one half); None for a
        model whose head reads no labels. Each text read once per predictor."""
        network = getattr(self.network, "_orig_mod", self.network)
        if getattr(network, "labels_read", None) is None:
            return None
        new = [t for t in dict.fromkeys(texts) if t not in self._labels_read]
        if new:
            self._encode(new)
            vectors = torch.from_numpy(np.stack([self._vectors[t] for t in new]))
            with torch.no_grad():
                read = [network.labels_read(vectors, state) for state in self.list_of_parameters or [None]]
            if read[0] is None:
                return None
            for text, row in zip(new, torch.stack(read).mean(0)):
                self._labels_read[text] = tuple(int(i) + 1 for i in torch.nonzero(row > 0.5).flatten())
        return {t: self._labels_read[t] for t in texts}

    def _exclusion_within(self, nearest: dict, neg_text: str, allow_unknown: bool, known: str) -> str:
        """A free-text target's exclusion read among the parts of the structure its text is nearest to (the part's
        name is encoded, and recorded); one it names no part of is refused, or kept as written with
        `allow_unknown`."""
        try:
            inner = parse(f"{nearest['structure']} excluding {neg_text}", self.ontology)
        except PromptError as e:
            if allow_unknown:
                return neg_text
            raise SemanticError(
                f"the exclusion '{neg_text}' of a prompt read by its nearest structure "
                f"'{nearest['structure']}' is no part of it ({e}). Known structures: {known}; "
                "--allow-unknown answers it from its free text"
            ) from None
        nearest["exclusion"] = list(inner.avoid_structures)
        return inner.neg_text

    def sources_of(self, prompt: ResolvedPrompt) -> dict:
        """{"sources": structure -> source} for a model of a merged dataset (empty otherwise): which dataset taught
        each structure the prompt names."""
        if self.ontology is None or not self.ontology.sources or prompt.parse is None:
            return {}
        of = self.ontology.source_of()
        names = [*prompt.parse.get("target_structures", []), *prompt.parse.get("avoid_structures", [])]
        return {"sources": {n: of.get(n) for n in names}}

    MARGIN = 0.02  # what still counts as close to the model's wordings, and as far from what it does not know

    @property
    def unknown_threshold(self) -> float:
        """The text similarity a free-text target needs to be answered: that of the model's least similar held-out
        wording (never trained on, every one a valid request) less MARGIN, but never within MARGIN of a structure
        the model does not know (`prompts/anatomy.py`: the most similar name its ontology cannot read), so that one
        unusual held-out wording cannot let "liver" be answered on a heart model. `threshold_basis` says which."""
        if self._threshold is None:
            heldout = [w for s in self.ontology.structures.values() for w in heldout_wordings(s)]
            foreign = [name for name in ANATOMY if not self._reads(name)]
            self._encode([*heldout, *foreign])
            least = min(((w, self._similarity(w)) for w in heldout), key=lambda x: x[1][2])
            most = max(((w, self._similarity(w)) for w in foreign), key=lambda x: x[1][2])
            self._threshold = max(least[1][2] - self.MARGIN, most[1][2] + self.MARGIN)
            self.threshold_basis = {
                "heldout_least_similar": {"text": least[0], "similarity": round(least[1][2], 4)},
                "unknown_most_similar": {"text": most[0], "nearest": most[1][0], "similarity": round(most[1][2], 4)},
            }
        return self._threshold

    def _reads(self, text: str) -> bool:
        try:
            parse(text, self.ontology)
        except PromptError:
            return False
        return True

    def _similarity(self, text: str) -> tuple[str, str, float]:
        """(structure, its training wording nearest `text`, their cosine similarity)."""
        phrases = {p: name for name, s in self.ontology.structures.items() for p in s.phrases()}
        self._encode([*phrases, text])
        similarity = {p: float(self._vectors[p] @ self._vectors[text]) for p in phrases}
        best = max(similarity, key=similarity.get)
        return phrases[best], best, similarity[best]

    def nearest_structure(self, text: str) -> dict | None:
        """The known structure whose name, synonym or description is closest to `text` by text embedding (cosine):
        how far a free-text prompt is from anything the model was trained to segment."""
        if self.ontology is None:
            return None
        structure, phrase, similarity = self._similarity(text)
        threshold = self.unknown_threshold
        return {
            "structure": structure,
            "phrase": phrase,
            "similarity": round(similarity, 4),
            "threshold": round(threshold, 4),
            "low_confidence": similarity < threshold,
        }

    def _encode(self, texts) -> None:
        new = sorted({t for t in texts if t and t not in self._vectors})
        if new:
            self._vectors.update(zip(new, self.encoder.encode(new)))

    def add_text_vectors(self, vectors: dict[str, np.ndarray]) -> None:
        """Texts whose vectors are known (a trainer's bank of the same encoder): never encoded again."""
        self._vectors.update(vectors)

    def encode_prompts(self, prompts: list[ResolvedPrompt]) -> list[dict[str, torch.Tensor]]:
        """Resolved prompts -> the network's text inputs (pos, neg, has_neg), each text encoded once per run."""
        self._encode(t for p in prompts for t in (p.pos_text, p.neg_text))
        out = []
        for p in prompts:
            pos = torch.from_numpy(self._vectors[p.pos_text])
            neg = torch.from_numpy(self._vectors[p.neg_text]) if p.neg_text else torch.zeros_like(pos)
            out.append({"pos": pos, "neg": neg, "has_neg": torch.tensor(bool(p.neg_text))})
        return out
