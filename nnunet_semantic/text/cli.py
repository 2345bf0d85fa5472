"""`nnunet-semantic embed`: encode a dataset's prompt texts once into its embedding bank."""

from __future__ import annotations

from pathlib import Path

from nnunet_semantic.arguments import at_least


def dataset_texts(raw_folder: Path) -> list[str]:
    """Every text a model of this dataset may be asked to embed: prompts, their parts, ontology phrases."""
    from nnunet_semantic.prompts.cli import load_ontology
    from nnunet_semantic.prompts.sidecar import read_sidecar_folder

    texts = {phrase for s in load_ontology(raw_folder).structures.values() for phrase in s.phrases()}
    for prompts in read_sidecar_folder(raw_folder / "prompts").values():
        for p in prompts:
            texts.update(t for t in (p.text, p.pos_text, p.neg_text) if t)
    return sorted(texts)


def _embed(args) -> int:
    from nnunet_semantic.paths import preprocessed_dataset_folder, raw_dataset_folder
    from nnunet_semantic.text import get_encoder
    from nnunet_semantic.text.bank import bank_path, build_bank

    raw = raw_dataset_folder(args.d)
    texts = dataset_texts(raw)
    options = {"device": args.device, "batch_size": args.batch_size}
    if args.source:
        options["source"] = args.source
    encoder = get_encoder(args.encoder, **options)
    pre = preprocessed_dataset_folder(raw.name)
    bank, n_new = build_bank(pre, encoder, texts)
    print(f"{args.encoder}: {len(texts)} texts, {n_new} newly encoded, {len(bank)} in the bank "
          f"(dim {encoder.dim}, fingerprint {encoder.fingerprint})\n{bank_path(pre, encoder.name)}")
    return 0


def add_parser(sub) -> None:
    from nnunet_semantic.text.factory import ENCODERS

    p = sub.add_parser("embed", help="encode a dataset's prompt texts once into its embedding bank",
                       description="Encode every distinct text of a converted dataset (prompts, pos/neg parts, "
                       "ontology phrases) into nnUNet_preprocessed/DatasetXXX/text_embeddings/<encoder>.npz. "
                       "Only texts not yet in the bank are encoded; a bank from other weights is rebuilt.")
    p.add_argument("-d", required=True, help="dataset id or name")
    p.add_argument("--encoder", default="minilm", choices=ENCODERS, help="text encoder (default: minilm, offline)")
    p.add_argument("--source", help="BiomedCLIP weights: local-dir:PATH, or hf-hub to download (default: "
                   "$NNUNET_SEMANTIC_BIOMEDCLIP_DIR, then the hub cache, offline)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--batch-size", type=at_least(1), default=64, help="texts per forward pass")
    p.set_defaults(func=_embed)
