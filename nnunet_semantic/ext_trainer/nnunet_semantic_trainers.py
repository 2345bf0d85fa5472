"""Shim for nnU-Net's `nnUNet_extTrainer` lookup: re-exports the real trainer classes only.

Nothing else may live here: nnU-Net imports this folder's modules under bare names and purges them.
"""

from nnunet_semantic.trainers import *  # noqa: F401,F403
