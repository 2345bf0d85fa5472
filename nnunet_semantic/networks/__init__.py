"""Haar DWT, frequency stream, CMSG gates and SemanticUNet."""
