"""``cebra-time``: CEBRA-Time (Schneider et al. 2023) via the PyPI ``cebra`` package (optional).

CEBRA is trained with ``conditional="time"`` (positive pairs ``time_offsets`` frames apart) on
the max-|x|-normalised frames of all sequences concatenated (pairs that straddle two sequences
are rare and kept, as CEBRA's single-recording fit does). Its ``offset10-model`` sees frames
``t-5 .. t+4``; to make the embedding causal we prepend ``right - 1`` copies of the first frame
and read the output shifted so that frame t's embedding uses frames ``t-9 .. t`` only.

``cebra`` is imported lazily: without it ``fit``/``load`` raise ``ImportError`` with the install
hint (``pip install cebra``; pure Python, runs offline on the CPU).
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .base import Estimator, MaxAbsScaler


@dataclass
class CebraTimeConfig:
    output_dimension: int = 32  # embedding dims D
    model_architecture: str = "offset10-model"  # CEBRA architecture name (receptive field 10)
    max_iterations: int = 2000  # optimiser steps
    batch_size: int = 512  # frames per step
    learning_rate: float = 3e-4  # Adam lr
    temperature: float = 1.0  # InfoNCE temperature
    time_offsets: int = 10  # frames between positive pairs
    num_hidden_units: int = 32  # CEBRA conv width
    device: str = "auto"  # "auto" (cuda if available) | "cpu" | "cuda"
    seed: int = 0  # seeds torch/numpy before CEBRA's training
    verbose: bool = False  # CEBRA's own progress bar


    def __post_init__(self) -> None:
        from .validation import validate_on_construction

        validate_on_construction(self)

    def problems(self) -> list[str]:
        """Invalid settings, one phrase each."""
        from .validation import MAX_EMBEDDING_DIM, at_least, in_range, positive

        out = in_range("output_dimension", self.output_dimension, 1, MAX_EMBEDDING_DIM)
        out += positive("learning_rate", self.learning_rate)
        out += positive("temperature", self.temperature)
        out += at_least("time_offsets", self.time_offsets, 1)
        out += at_least("num_hidden_units", self.num_hidden_units, 1)
        return out + at_least("seed", self.seed, 0)


def _import_cebra():
    try:
        import cebra
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "model 'cebra-time' needs the optional package 'cebra' (pip install cebra)"
        ) from exc
    return cebra


class CebraTime(Estimator):
    name = "cebra-time"
    config_class = CebraTimeConfig

    def __init__(self, config: CebraTimeConfig | None = None, **overrides) -> None:
        super().__init__(config, **overrides)
        self.model_ = None

    def _fit(self, x: np.ndarray, valid: np.ndarray | None) -> None:
        cebra = _import_cebra()
        cfg = self.config
        self.scaler_ = MaxAbsScaler.fit(x, valid)
        frames = self.scaler_.transform(x).reshape(-1, x.shape[-1])
        if valid is not None:
            frames = frames[valid.reshape(-1)]
        device = {"auto": "cuda_if_available"}.get(cfg.device, cfg.device)
        torch.manual_seed(cfg.seed)
        np.random.seed(cfg.seed)  # noqa: NPY002 - CEBRA's samplers draw from numpy's global RNG
        self.model_ = cebra.CEBRA(
            model_architecture=cfg.model_architecture,
            conditional="time",
            output_dimension=cfg.output_dimension,
            max_iterations=cfg.max_iterations,
            batch_size=cfg.batch_size,
            learning_rate=cfg.learning_rate,
            temperature=cfg.temperature,
            time_offsets=cfg.time_offsets,
            num_hidden_units=cfg.num_hidden_units,
            device=device,
            verbose=cfg.verbose,
        )
        self.model_.fit(frames)

    def _embed(self, x: np.ndarray) -> np.ndarray:
        xn = self.scaler_.transform(x)
        right = int(self.model_.model_.get_offset().right)
        out = np.empty((x.shape[0], x.shape[1], self.config.output_dimension), np.float32)
        for i, seq in enumerate(xn):
            padded = np.concatenate([np.repeat(seq[:1], right - 1, axis=0), seq], axis=0)
            out[i] = self.model_.transform(padded)[: seq.shape[0]]
        return out

    @property
    def embedding_dim(self) -> int:
        return self.config.output_dimension

    @property
    def n_parameters(self) -> int:
        if self.model_ is None:
            return 0
        return sum(p.numel() for p in self.model_.solver_.model.parameters())

    def _get_state(self) -> dict:
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "cebra.pt"
            self.model_.save(str(path))
            blob = path.read_bytes()
        return {
            "input_scale": self.scaler_.scale,
            "cebra": torch.frombuffer(bytearray(blob), dtype=torch.uint8),
        }

    def _set_state(self, state: dict) -> None:
        cebra = _import_cebra()
        self.scaler_ = MaxAbsScaler(state["input_scale"].numpy())
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "cebra.pt"
            path.write_bytes(io.BytesIO(state["cebra"].numpy().tobytes()).getvalue())
            self.model_ = cebra.CEBRA.load(str(path))
