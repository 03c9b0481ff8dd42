"""Trainer: 2-process gloo DDP gradients == single process on the full batch; checkpoints."""

from __future__ import annotations

import datetime
import os
import socket
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from behaviorbench.models import BAMS
from behaviorbench.models.training import Trainer

from .synthetic import regime_sinusoids

# dropout off so both runs are deterministic; bootstrap terms off because their BYOL predictors
# use BatchNorm, whose batch statistics are per rank under DDP (as in any DDP without SyncBN)
DDP_CFG = {"dropout": 0.0, "short_weight": 0.0, "long_weight": 0.0, "progress": False,
           "epochs": 1, "batch_size": 4, "seed": 5}


def _gradients(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {n: p.grad.detach().clone() for n, p in trainer.module.named_parameters()}


def _build():
    torch.set_num_threads(1)
    x = regime_sinusoids(n=4, t_len=220, seed=2)[0]
    model = BAMS(**DDP_CFG)
    data = model.prepare(x, None)
    return model, data


def _ddp_worker(rank: int, world: int, port: int, out_dir: str) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world, timeout=datetime.timedelta(seconds=120))
    model, data = _build()
    trainer = model.make_trainer(data)
    assert trainer.world == 2 and trainer.rank == rank
    metrics = trainer.backward(torch.arange(4))
    if rank == 0:
        torch.save({"grads": _gradients(trainer), "metrics": metrics}, Path(out_dir, "ddp.pt"))
    dist.barrier()  # both ranks' work is done
    Path(out_dir, f"done{rank}").touch()
    # leave without tearing the group down: gloo's teardown at interpreter exit can abort a
    # rank ("terminate called without an active exception", std::terminate from a joinable
    # thread's destructor) after all the work is done; os._exit runs no destructors
    os._exit(0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_two_process_gradients_match_single_process(tmp_path):
    ctx = mp.start_processes(_ddp_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2,
                             join=False, start_method="spawn")
    try:
        for proc in ctx.processes:
            proc.join(timeout=300)
    finally:
        for proc in ctx.processes:
            if proc.is_alive():  # hung: do not leave it behind
                proc.kill()
    for rank, proc in enumerate(ctx.processes):
        assert (tmp_path / f"done{rank}").is_file(), f"rank {rank} did not finish its work"
        assert proc.exitcode == 0, f"rank {rank} exited with {proc.exitcode}"
    ddp = torch.load(tmp_path / "ddp.pt", weights_only=True)["grads"]

    model, data = _build()
    trainer = model.make_trainer(data)
    assert trainer.world == 1
    trainer.backward(torch.arange(4))
    single = _gradients(trainer)
    assert ddp.keys() == single.keys()
    checked = 0
    for name, g in single.items():
        if name.startswith("byol_predictors."):
            continue  # zero-weighted terms here
        scale = g.abs().max().clamp_min(1e-12)
        assert torch.allclose(ddp[name], g, atol=1e-5 * float(scale), rtol=1e-4), name
        checked += int(g.abs().max() > 0)
    assert checked > 20  # the comparison covered real, non-zero gradients


def test_checkpoint_resume_and_lr_schedule(tmp_path):
    torch.set_num_threads(2)
    x = regime_sinusoids(n=4, t_len=150, seed=3)[0]
    cfg = {"batch_size": 4, "progress": False, "lr_milestones": (2,), "checkpoint_every": 2,
           "checkpoint_dir": str(tmp_path / "ck")}
    full = BAMS(epochs=4, dropout=0.0, **cfg).fit(x)
    assert (tmp_path / "ck" / "ckpt_epoch0002.pt").exists()
    assert [round(h["lr"], 8) for h in full.history] == [1e-3, 1e-3, 1e-4, 1e-4]
    resumed = BAMS(epochs=4, dropout=0.0, resume_from=str(tmp_path / "ck" / "ckpt_epoch0002.pt"),
                   **{**cfg, "checkpoint_dir": None}).fit(x)
    assert len(resumed.history) == 2  # epochs 3 and 4 only
    np.testing.assert_allclose(resumed.embed(x), full.embed(x), atol=1e-5)


def test_non_finite_loss_stops_training_naming_epoch_and_step():
    from behaviorbench.models import NonFiniteLossError

    torch.set_num_threads(1)
    x = regime_sinusoids(n=4, t_len=220, seed=2)[0]
    model = BAMS(**{**DDP_CFG, "epochs": 3, "batch_size": 2})
    data = model.prepare(x, None)
    trainer = model.make_trainer(data)
    calls = {"n": 0}
    inner = trainer.loss_fn

    def loss_fn(m, b, c):
        calls["n"] += 1
        loss, terms = inner(m, b, c)
        return (loss * float("nan"), terms) if calls["n"] == 3 else (loss, terms)

    trainer.loss_fn = loss_fn
    try:
        trainer.fit()
    except NonFiniteLossError as e:
        msg = str(e)
    else:
        raise AssertionError("a NaN loss did not stop training")
    # the third step is epoch 2's first (2 steps per epoch); the step counter has run it
    assert "epoch 2, optimiser step 3" in msg and "loss = nan" in msg and "\n" not in msg
    assert len(trainer.history) == 1  # epoch 1 finished, epoch 2 did not


def test_history_records_steps_precision_and_final_loss_terms():
    torch.set_num_threads(1)
    x = regime_sinusoids(n=4, t_len=220, seed=2)[0]
    model = BAMS(**{**DDP_CFG, "epochs": 2, "batch_size": 2, "device": "cpu"})
    model.fit(x)
    last = model.history[-1]
    assert last["step"] == 4 and last["precision"] == "fp32" and last["epoch"] == 2
    assert {"hoa", "short", "long", "loss"} <= set(last)
