"""Generic trainer for the sequence models: device, AMP, DDP, checkpoints, progress, logs.

One job: run ``loss_fn`` over shuffled batches of whole sequences for ``epochs`` epochs with
AdamW + MultiStepLR. Models (BAMS, the TCN autoencoder) supply the module, the loss and the
precomputed per-sequence tensors.

Multi-GPU: launch any script that calls ``fit`` under ``torchrun --nproc_per_node=K``. When
``WORLD_SIZE > 1`` the trainer joins the process group (NCCL on CUDA, gloo on CPU), wraps the
module in ``DistributedDataParallel`` and gives each rank the slice ``global_batch[rank::K]``
of every global batch (every rank draws the same permutation from the same seed), so one
optimiser step sees ``batch_size`` sequences in total, as on one device.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from .base import resolve_device


@dataclass
class TrainingConfig:
    """Optimisation settings shared by the trained models (defaults = BAMS reference)."""

    epochs: int = 500  # passes over the training sequences
    batch_size: int = 32  # sequences per optimiser step (global, summed over DDP ranks)
    lr: float = 1e-3  # AdamW learning rate (1/step)
    weight_decay: float = 4e-5  # AdamW decoupled weight decay
    lr_milestones: tuple[int, ...] = (200,)  # epochs at which lr is multiplied by lr_gamma
    lr_gamma: float = 0.1  # MultiStepLR factor
    drop_last: bool = True  # drop the last incomplete batch (kept if it would be the only one)
    device: str = "auto"  # "auto" (cuda if available) | "cpu" | "cuda" | "cuda:1"
    amp: str = "auto"  # "auto" (CUDA: bf16 if supported else fp16; CPU: off)|bf16|fp16|off
    compile: bool = False  # wrap the module in torch.compile (CUDA only recommended)
    seed: int = 0  # seeds weights, shuffling and every random draw of the loss
    checkpoint_dir: str | None = None  # where to write ckpt_epochXXXX.pt and last.pt (rank 0)
    checkpoint_every: int = 100  # epochs between checkpoints (last epoch always saved)
    resume_from: str | None = None  # checkpoint path to resume module/optimiser/scheduler from
    log_path: str | None = None  # JSONL file, one line of mean losses per epoch (rank 0)
    progress: bool = True  # rich progress bar with running losses (rank 0)

    def __post_init__(self) -> None:
        from .validation import validate_on_construction

        validate_on_construction(self)

    def problems(self) -> list[str]:
        """Invalid settings, one phrase each (``validation.config_problems`` adds its own)."""
        from .validation import all_at_least, at_least, positive

        out = positive("lr", self.lr) + at_least("weight_decay", self.weight_decay, 0)
        out += all_at_least("lr_milestones", self.lr_milestones, 1, allow_empty=True)
        out += positive("lr_gamma", self.lr_gamma)
        out += at_least("checkpoint_every", self.checkpoint_every, 1)
        out += at_least("seed", self.seed, 0)
        if self.amp not in ("auto", "bf16", "fp16", "off"):
            out.append(f"amp must be auto, bf16, fp16 or off, got {self.amp!r}")
        return out


@dataclass
class StepContext:
    """What a loss function may need to draw random numbers consistently across DDP ranks."""

    step: int  # global optimiser step (0-based)
    rank: int
    world: int
    global_batch: int  # sequences in the global batch
    local_positions: torch.Tensor  # (b_local,) positions of this rank's rows in the global batch
    seed: int

    def generator(self) -> torch.Generator:
        """CPU generator seeded by (seed, step): identical on all ranks."""
        return torch.Generator().manual_seed(self.seed * 1_000_003 + self.step + 1)


class NonFiniteLossError(ValueError):
    """The training loss became NaN or infinite (one line naming the epoch and step)."""


def precision_name(dtype: torch.dtype | None) -> str:
    """'fp32' (no autocast), 'bf16' or 'fp16': the precision the forward pass ran in."""
    return {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(dtype, "fp32")


LossFn = Callable[[nn.Module, dict, StepContext], tuple[torch.Tensor, dict]]


def dist_env() -> tuple[int, int, int]:
    """(rank, world_size, local_rank) from an initialised process group or torchrun's env."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0))
    return (
        int(os.environ.get("RANK", 0)),
        int(os.environ.get("WORLD_SIZE", 1)),
        int(os.environ.get("LOCAL_RANK", 0)),
    )


def amp_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    if amp == "off" or (amp == "auto" and device.type != "cuda"):
        return None
    if amp == "bf16" or (amp == "auto" and torch.cuda.is_bf16_supported()):
        return torch.bfloat16
    if amp in ("fp16", "auto"):
        return torch.float16
    raise ValueError(f"unknown amp setting {amp!r}")


@dataclass
class Trainer:
    """Trains ``module`` on per-sequence tensors ``data`` (each (N, ...)) with ``loss_fn``."""

    module: nn.Module
    loss_fn: LossFn
    data: dict[str, torch.Tensor]
    param_groups: list[dict]
    config: TrainingConfig
    frames_per_sequence: int = 1
    history: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        cfg = self.config
        self.rank, self.world, local_rank = dist_env()
        self.device = resolve_device(cfg.device)
        if self.world > 1:
            if self.device.type == "cuda":
                self.device = torch.device("cuda", local_rank)
                torch.cuda.set_device(self.device)
            if not dist.is_initialized():
                dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
        self.module.to(self.device)
        self.optimizer = torch.optim.AdamW(
            self.param_groups, lr=cfg.lr, weight_decay=cfg.weight_decay
        )
        self.scheduler = torch.optim.lr_scheduler.MultiStepLR(
            self.optimizer, milestones=list(cfg.lr_milestones), gamma=cfg.lr_gamma
        )
        self.dtype = amp_dtype(cfg.amp, self.device)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.dtype == torch.float16)
        self.wrapped: nn.Module = self.module
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.wrapped = nn.parallel.DistributedDataParallel(self.module, device_ids=ids)
        if cfg.compile:
            self.wrapped = torch.compile(self.wrapped)
        on_dev = self.device.type == "cuda"
        self.data = {k: (v.to(self.device) if on_dev else v) for k, v in self.data.items()}
        self.n_sequences = next(iter(self.data.values())).shape[0]
        self.step = 0
        self.start_epoch = 0
        if cfg.resume_from:
            self.load_checkpoint(cfg.resume_from)

    # --- batches -------------------------------------------------------------------------
    def batches(self, epoch: int) -> list[torch.Tensor]:
        """Global batches (index tensors) of one epoch; identical on every rank."""
        n, b = self.n_sequences, max(1, min(self.config.batch_size, self.n_sequences))
        g = torch.Generator().manual_seed(self.config.seed * 7919 + epoch)
        perm = torch.randperm(n, generator=g)
        out = [perm[i : i + b] for i in range(0, n, b)]
        if self.config.drop_last and len(out) > 1 and len(out[-1]) < b:
            out = out[:-1]
        return out

    def local_batch(self, global_idx: torch.Tensor) -> tuple[dict, StepContext]:
        positions = torch.arange(len(global_idx))[self.rank :: self.world]
        idx = global_idx[positions]
        batch = {
            k: v[idx.to(v.device)].to(self.device, non_blocking=True) for k, v in self.data.items()
        }
        ctx = StepContext(
            self.step, self.rank, self.world, len(global_idx), positions, self.config.seed
        )
        return batch, ctx

    # --- steps ---------------------------------------------------------------------------
    def backward(self, global_idx: torch.Tensor) -> dict:
        """Forward + backward on this rank's share of ``global_idx``; no optimiser step."""
        batch, ctx = self.local_batch(global_idx)
        self.optimizer.zero_grad(set_to_none=True)
        autocast = (
            torch.autocast(self.device.type, dtype=self.dtype)
            if self.dtype is not None
            else contextlib.nullcontext()
        )
        with autocast:
            loss, metrics = self.loss_fn(self.wrapped, batch, ctx)
        self.scaler.scale(loss).backward()
        metrics = {k: float(v) for k, v in metrics.items()}
        metrics["loss"] = float(loss.detach())
        return metrics

    def train_step(self, global_idx: torch.Tensor) -> dict:
        metrics = self.backward(global_idx)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.step += 1
        return metrics

    def step_losses(self, steps: int) -> list[float]:
        """The total loss of each of the next ``steps`` optimiser steps, over the batches of
        epochs 0, 1, ... in turn; no scheduler step, checks or logging (benchmarks and tests
        that compare two ways of computing the same steps)."""
        out: list[float] = []
        epoch = 0
        while len(out) < steps:
            for idx in self.batches(epoch)[:steps - len(out)]:
                out.append(self.train_step(idx)["loss"])
            epoch += 1
        return out

    # --- loop ----------------------------------------------------------------------------
    def fit(self) -> list[dict]:
        cfg = self.config
        self.module.train()
        show = cfg.progress and self.rank == 0
        progress = _make_progress() if show else None
        with progress if progress is not None else contextlib.nullcontext():
            task = None
            if progress is not None:
                task = progress.add_task("train", total=cfg.epochs, completed=self.start_epoch)
            for epoch in range(self.start_epoch, cfg.epochs):
                t0 = time.perf_counter()
                sums: dict[str, float] = {}
                batches = self.batches(epoch)
                n_frames = 0
                for idx in batches:
                    m = self.train_step(idx)
                    if self.world == 1:
                        self._check_finite(m, epoch)
                    n_frames += len(idx) * self.frames_per_sequence
                    for k, v in m.items():
                        sums[k] = sums.get(k, 0.0) + v
                lr_used = self.optimizer.param_groups[0]["lr"]
                self.scheduler.step()
                dt = time.perf_counter() - t0
                if self.world > 1:  # log the mean over ranks, not rank 0's shard only
                    t = torch.tensor(list(sums.values()), dtype=torch.float64, device=self.device)
                    dist.all_reduce(t)
                    sums = dict(zip(sums, (t / self.world).tolist(), strict=True))
                rec = {k: v / max(1, len(batches)) for k, v in sums.items()}
                self._check_finite(rec, epoch)  # DDP: the same mean on every rank
                rec.update(epoch=epoch + 1, seconds=dt, frames_per_s=n_frames / max(dt, 1e-9))
                rec["lr"] = lr_used  # base lr used during this epoch
                rec["step"] = self.step  # optimiser steps run so far
                rec["precision"] = precision_name(self.dtype)
                self.history.append(rec)
                if self.rank == 0:
                    self._log(rec)
                    last = epoch + 1 == cfg.epochs
                    if cfg.checkpoint_dir and ((epoch + 1) % cfg.checkpoint_every == 0 or last):
                        self.save_checkpoint(epoch + 1)
                if progress is not None:
                    desc = " ".join(f"{k}={rec[k]:.4g}" for k in sums)
                    progress.update(task, advance=1, description=f"ep {epoch + 1} {desc}")
        self.module.eval()
        return self.history

    def _check_finite(self, metrics: dict, epoch: int) -> None:
        """Raise ``NonFiniteLossError`` when any loss term in ``metrics`` is NaN or infinite."""
        bad = {k: v for k, v in metrics.items() if isinstance(v, float) and not math.isfinite(v)}
        if bad:
            terms = ", ".join(f"{k} = {v}" for k, v in bad.items())
            raise NonFiniteLossError(f"training loss became non-finite at epoch {epoch + 1}, "
                                     f"optimiser step {self.step} ({terms}); nothing written")

    def _log(self, rec: dict) -> None:
        if self.config.log_path:
            path = Path(self.config.log_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a") as fh:
                fh.write(json.dumps(rec) + "\n")

    # --- checkpoints ---------------------------------------------------------------------
    def save_checkpoint(self, epoch: int) -> Path:
        d = Path(self.config.checkpoint_dir)
        d.mkdir(parents=True, exist_ok=True)
        state = {
            "module": self.module.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "epoch": epoch,
            "step": self.step,
        }
        path = d / f"ckpt_epoch{epoch:04d}.pt"
        torch.save(state, path)
        torch.save(state, d / "last.pt")
        return path

    def load_checkpoint(self, path: str | Path) -> None:
        state = torch.load(Path(path), map_location=self.device, weights_only=True)
        self.module.load_state_dict(state["module"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        self.start_epoch, self.step = int(state["epoch"]), int(state["step"])


def _make_progress():
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} epochs"),
        TimeElapsedColumn(),
        transient=False,
    )
