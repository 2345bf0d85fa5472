"""SemanticPredictor and the prompted prediction CLI."""
