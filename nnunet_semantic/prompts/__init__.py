"""Prompt ontology, parser, L1/L2/L3 generation, verification and sidecar IO."""
