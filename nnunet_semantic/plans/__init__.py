"""Planning helpers: a CPU-sized 2D configuration."""
