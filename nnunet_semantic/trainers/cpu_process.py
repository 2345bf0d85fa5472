"""A CPU training's process: its threads and its allocator, set when a trainer is made for the CPU (process-wide, as
`torch.set_num_threads` is)."""

from __future__ import annotations

import ctypes
import os
import sys

import torch

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD_MAX = 32 * 1024 * 1024  # the largest M_MMAP_THRESHOLD glibc takes on a 64-bit system
ALLOCATOR_VARIABLES = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")


def keep_freed_memory() -> bool:
    """glibc's malloc keeps what a training step frees for the next step: blocks up to 32 MiB come from its heap,
    whose free top is never handed back to the system. By default it hands freed blocks back and maps them anew, so
    a step's large tensors page-fault afresh every step: at the hippocampus' batch of 64 (56 x 40) ~70,000 page
    faults and 0.1-0.2 s of kernel time per step, 8-10% of the step's time (nnUNetTrainer's as well, alone in its
    process). The process then holds its peak memory between steps. Not applied off glibc or where the user set
    glibc's MALLOC_* variables; returns whether it was."""
    if not sys.platform.startswith("linux") or any(name in os.environ for name in ALLOCATOR_VARIABLES):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX)) and bool(mallopt(M_TRIM_THRESHOLD, 2**31 - 1))


def configure_cpu_process() -> None:
    """An explicit OMP_NUM_THREADS honoured (nnU-Net's run_training gives the CPU one thread per core; two trainings
    of two threads each sharing two cores ran 2-3x slower than of one each), and freed memory kept."""
    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        torch.set_num_threads(max(1, int(os.environ["OMP_NUM_THREADS"])))
    keep_freed_memory()
