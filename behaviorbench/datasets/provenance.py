"""What decides a generated store's bits besides its config, as its root attributes record it:
the controller (its identity and parameters) and the simulator package versions. ``--resume``
compares them with the running code and refuses a store begun with others."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from behaviorbench.datasets.config import ConfigError, GenerationConfig


def jsonable(d: dict) -> dict:
    """``d`` as it reads back from JSON (tuples become lists), for comparing with attributes."""
    return json.loads(json.dumps(d))


def controller_spec(cfg: GenerationConfig) -> str:
    """``cfg.controller`` as the workers load it: a policy file as an absolute path (workers
    may run elsewhere), other names as given."""
    from behaviorbench.simulation.controller_protocol import is_file_spec

    spec = cfg.controller
    return os.path.abspath(spec) if is_file_spec(spec) else spec


def controller_record(cfg: GenerationConfig | None = None) -> dict:
    """The locomotion controller's parameters, as stored in a store's ``controller`` root
    attribute: for the built-in ``trot`` controller (``cfg`` None or naming it) the
    ``ControllerConfig`` defaults, which every backend walks the robots with (the generator
    version does not change when the controller is retuned, this record does); for another
    controller its ``config()`` (:func:`controller_identity`)."""
    if cfg is None or cfg.controller == "trot":
        from behaviorbench.simulation.controller import ControllerConfig

        return jsonable(asdict(ControllerConfig()))
    return controller_identity(cfg)["config"]


def controller_identity(cfg: GenerationConfig) -> dict:
    """The identity of the controller that walks ``cfg``'s robots (stored in a store's
    ``controller_identity`` root attribute): ``name``, ``source`` (``builtin``, the policy
    file's absolute path, ``module:Class``), ``config`` and ``sha256`` of the policy file (None
    for controllers without one). Loads (and so checks) the controller: raises
    ``ConfigError`` (one line) for an unknown name, a class that does not implement the
    protocol, or a policy file that is not a model or has the wrong input or output size."""
    from behaviorbench.simulation.controller_protocol import (
        ControllerError,
    )
    from behaviorbench.simulation.controller_protocol import (
        controller_identity as identity,
    )

    try:
        return jsonable(identity(controller_spec(cfg)))
    except ControllerError as e:
        raise ConfigError(str(e)) from e


def same_controller(recorded: dict | None, current: dict) -> bool:
    """Whether two controller identities name the same controller: same name and policy
    file sha256 (a file's path may differ; parameters are compared through the ``controller``
    attribute). A store without the record was walked by ``trot``."""
    recorded = recorded or {"name": "trot", "sha256": None}
    return all(recorded.get(k) == current.get(k) for k in ("name", "sha256"))


# packages whose versions decide a trajectory's bits, per backend (the physics engine first):
# the same seed and config give the same store only with the same versions of these (numba is
# not one: its height sampling gives numpy's bits, tests/simulation/test_height_sampling.py)
SIMULATOR_PACKAGES: dict[str, tuple[str, ...]] = {
    "mujoco": ("mujoco", "numpy"),
    "mujoco-warp": ("mujoco", "mujoco-warp", "warp-lang", "torch", "numpy"),
    "isaacgym": ("isaacgym", "torch", "numpy"),
}


def simulator_record(backend: str, controller: str = "trot") -> dict:
    """Versions of the packages that decide the trajectories' bits for ``backend`` (stored in
    a store's ``simulator`` root attribute): physics engines change contacts between releases
    (MuJoCo 4.0.0 and 4.0.1 give different falls on hard stairs), so a store says which it was
    made with. A package that is not installed is recorded as None."""
    from importlib import metadata

    record = {}
    names = SIMULATOR_PACKAGES.get(backend, ("mujoco", "numpy"))
    if controller.lower().endswith(".pt"):  # the policy's arithmetic decides the actions' bits
        names = (*names, "torch")
    elif controller.lower().endswith(".onnx"):
        names = (*names, "onnxruntime")
    for name in names:
        try:
            record[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            record[name] = None
    return record


def check_simulator(out: Path, attrs: dict, backend: str, controller: str = "trot") -> None:
    """Refuse to resume a store begun with other simulator versions (a store without the
    record, written before it existed, is not checked)."""
    recorded, current = attrs.get("simulator"), simulator_record(backend, controller)
    if recorded is not None and recorded != current:
        diff = ", ".join(f"{k} {recorded.get(k)} -> {current.get(k)}" for k in current
                         if recorded.get(k) != current.get(k))
        raise ConfigError(f"{out} was started with other simulator versions ({diff}); "
                          f"resuming would mix physics: use --overwrite, or install the "
                          f"recorded versions")
