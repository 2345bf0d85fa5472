"""nnU-Net's local logger plus the exclusion loss and per-level pseudo Dice, drawn in progress.png."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from nnunetv2.training.logging.nnunet_logger import LocalLogger  # noqa: E402

EXTRA_KEYS = ("train_exclusion_losses", "val_exclusion_losses", "dice_L1", "dice_L2", "dice_L3")


class SemanticLocalLogger(LocalLogger):
    def __init__(self, verbose: bool = False):
        super().__init__(verbose)
        for key in EXTRA_KEYS:
            self.my_fantastic_logging[key] = []

    def load_checkpoint(self, checkpoint: dict) -> None:
        super().load_checkpoint(checkpoint)
        for key in EXTRA_KEYS:  # checkpoints of plain nnU-Net trainers (-pretrained_weights, old runs)
            self.my_fantastic_logging.setdefault(key, [])

    def plot_progress_png(self, output_folder: str) -> None:
        log = self.my_fantastic_logging
        epoch = min(len(v) for v in log.values()) - 1
        if epoch < 0:
            return
        x = list(range(epoch + 1))
        fig, axes = plt.subplots(4, 1, figsize=(12, 20))
        ax, ax2 = axes[0], axes[0].twinx()
        ax.plot(x, log["train_losses"][: epoch + 1], "b-o", label="loss_tr")
        ax.plot(x, log["val_losses"][: epoch + 1], "r-o", label="loss_val")
        ax2.plot(x, log["mean_fg_dice"][: epoch + 1], "g:o", label="pseudo dice")
        ax2.plot(x, log["ema_fg_dice"][: epoch + 1], "g-", label="pseudo dice (mov. avg.)")
        ax.set(xlabel="epoch", ylabel="loss")
        ax2.set_ylabel("pseudo dice")
        ax.legend(loc="upper left")
        ax2.legend(loc="upper right")
        ax, ax2 = axes[1], axes[1].twinx()
        ax.plot(x, log["train_exclusion_losses"][: epoch + 1], "m-o", label="exclusion loss (tr)")
        ax.plot(x, log["val_exclusion_losses"][: epoch + 1], "m:o", label="exclusion loss (val)")
        for level, style in (("L1", "c-o"), ("L2", "y-o"), ("L3", "k-o")):
            ax2.plot(x, log[f"dice_{level}"][: epoch + 1], style, label=f"pseudo dice {level}")
        ax.set(xlabel="epoch", ylabel="exclusion BCE")
        ax2.set_ylabel("pseudo dice per prompt level")
        ax.legend(loc="upper left")
        ax2.legend(loc="upper right")
        durations = [e - s for e, s in zip(log["epoch_end_timestamps"], log["epoch_start_timestamps"])]
        axes[2].plot(x, durations[: epoch + 1], "b-o", label="epoch duration [s]")
        axes[3].plot(x, log["lrs"][: epoch + 1], "b-o", label="learning rate")
        for ax in axes[2:]:
            ax.set_xlabel("epoch")
            ax.legend(loc="upper left")
        fig.tight_layout()
        fig.savefig(os.path.join(output_folder, "progress.png"))
        plt.close(fig)
