"""Text encoders (MiniLM offline default, BiomedCLIP) and the cached embedding bank."""
