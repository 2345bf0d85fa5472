"""`nnunet-semantic embed`: encode a dataset's prompt texts once into its embedding bank."""

from __future__ import annotations

from nnunet_semantic.arguments import at_least


def embed_dataset(dataset: str, encoder: str = "minilm", **options):
    """Encode every distinct text of a converted dataset (prompts, their parts, ontology phrases) into its bank;
    `options` go to the encoder (device, batch_size, source). Returns (bank, newly encoded, its path)."""
    from nnunet_semantic.paths import preprocessed_dataset_folder, raw_dataset_folder
    from nnunet_semantic.prompts.ontology import Ontology
    from nnunet_semantic.prompts.sidecar import read_sidecar_folder
    from nnunet_semantic.text import get_encoder
    from nnunet_semantic.text.bank import bank_path, build_bank

    raw = raw_dataset_folder(dataset)
    texts = {phrase for s in Ontology.of_dataset(raw).structures.values() for phrase in s.phrases()}
    for prompts in read_sidecar_folder(raw / "prompts").values():
        for p in prompts:
            texts.update(t for t in (p.text, p.pos_text, p.neg_text) if t)
    text_encoder = get_encoder(encoder, **{k: v for k, v in options.items() if v is not None})
    pre = preprocessed_dataset_folder(raw.name)
    bank, n_new = build_bank(pre, text_encoder, sorted(texts))
    return bank, n_new, bank_path(pre, text_encoder.name)


def _embed(args) -> int:
    bank, n_new, path = embed_dataset(
        args.d, args.encoder, device=args.device, batch_size=args.batch_size, source=args.source
    )
    print(
        f"{args.encoder}: {len(bank)} texts in the bank, {n_new} newly encoded (dim {bank.vectors.shape[1]}, "
        f"fingerprint {bank.fingerprint})\n{path}"
    )
    return 0


def add_parser(sub) -> None:
    from nnunet_semantic.text.factory import ENCODERS

    p = sub.add_parser(
        "embed",
        help="encode a dataset's prompt texts once into its embedding bank",
        description="Encode every distinct text of a converted dataset (prompts, pos/neg parts, "
        "ontology phrases) into nnUNet_preprocessed/DatasetXXX/text_embeddings/<encoder>.npz. "
        "Only texts not yet in the bank are encoded; a bank from other weights is rebuilt.",
    )
    p.add_argument("-d", required=True, help="dataset id or name")
    p.add_argument("--encoder", default="minilm", choices=ENCODERS, help="text encoder (default: minilm, offline)")
    p.add_argument(
        "--source",
        help="BiomedCLIP weights: local-dir:PATH, or hf-hub to download (default: "
        "$NNUNET_SEMANTIC_BIOMEDCLIP_DIR, then the hub cache, offline)",
    )
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--batch-size", type=at_least(1), default=64, help="texts per forward pass")
    p.set_defaults(func=_embed)
