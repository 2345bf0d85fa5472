"""Text-prompted medical image segmentation inside nnU-Net v2."""

__version__ = "0.1.0"
