"""Converters from MSD, KiTS23, BraTS and a synthetic phantom to nnU-Net raw with prompt sidecars."""
