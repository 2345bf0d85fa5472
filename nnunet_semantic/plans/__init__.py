"""Planning helpers, e.g. a CPU-sized 2D configuration."""
