"""What to generate: ``GenerationConfig`` and its presets (``default``, ``paper``, ``tiny``).

The config is the dataset's identity: it is stored in the root attributes, and two stores with
equal configs hold bit-identical arrays. How the work is run (workers, executor) is not part of
it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace

from behaviorbench.datasets import schema

# Sub-terrain kinds in legged_gym's ``terrain_proportions`` order (the original's mix).
TERRAIN_KINDS: tuple[str, ...] = (
    "pyramid_slope", "rough_pyramid_slope", "stairs_up", "stairs_down",
    "discrete_obstacles", "waves", "flat", "flat_noise",
)
PAPER_TERRAIN_PROPORTIONS: tuple[float, ...] = (0.15, 0.15, 0.15, 0.15, 0.2, 0.0, 0.1, 0.1)
PAPER_DIFFICULTIES: tuple[float, ...] = (0.5, 0.75, 0.9)
BACKENDS_RESERVED: tuple[str, ...] = ("mujoco-warp", "isaacgym")  # GPU, optional installs


class ConfigError(ValueError):
    """Invalid generation settings (reported as a one-line error by the CLI)."""


@dataclass(frozen=True)
class GenerationConfig:
    """Settings of one generated dataset. Default: the small ``default`` preset."""

    robots: tuple[str, ...] = schema.ROBOT_TYPES  # robot names; default both ANYmals
    trajectories_per_run: int = 16  # robots per (robot, command velocity) run; paper 200
    command_vels: tuple[float, ...] = (0.5, 1.0)  # m/s, forward command of each run
    # s per trajectory (50 Hz frames); paper 180 (see PRESETS). 60 s is longer than BAMS's
    # long-term receptive field (1365 frames, 27.3 s), so every sequence holds behaviour on
    # that timescale
    episode_s: float = 60.0
    terrain_kinds: tuple[str, ...] = TERRAIN_KINDS  # sub-terrain kinds, default all 8
    terrain_proportions: tuple[float, ...] = PAPER_TERRAIN_PROPORTIONS  # one per kind, sum > 0
    difficulties: tuple[float, ...] = PAPER_DIFFICULTIES  # drawn uniformly per sub-terrain, [0,1]
    added_mass_range: tuple[float, float] = (-5.0, 5.0)  # kg, uniform added base mass
    # stairs and obstacles with vertical walls, as the original's trimesh (False: the height
    # field's 0.1 m ramps; stores written before this option existed have False)
    vertical_walls: bool = True
    seed: int = 0  # every random draw derives from it
    backend: str = "mujoco"  # simulator; mujoco-warp / isaacgym: GPU, optional installs
    keep_failures: bool = False  # also store failed traversals (``success`` False)
    # trajectories per staging shard (unit of work and of commit); one shard's robots of a run
    # step in one batch, and small batches pay the controller's per-tick numpy overhead: at
    # 8 the loop ran 0.41x its raw physics, at 32 0.7x (benchmarks/sim_throughput.py)
    shard_size: int = 32
    # what walks the robots: "trot" (the built-in model-based controller), a policy file
    # (TorchScript .pt, ONNX .onnx) taking docs/environment.md's observation, or module:Class
    # (a Python controller, behaviorbench.simulation.controller_protocol); the store also
    # records the controller's identity (name, config, file sha256)
    controller: str = "trot"
    extra: dict = field(default_factory=dict)  # free-form, stored verbatim (must be JSON)

    def __post_init__(self) -> None:
        """Validate on construction (``ConfigError`` naming the field, value and valid range);
        whether an optional GPU backend is installed is checked by ``validate()`` only, so a
        store's config still reads on a machine without that backend."""
        self._check_fields()

    @property
    def runs(self) -> list[tuple[str, float]]:
        """(robot, command_vel) per run, in store order."""
        return [(r, float(v)) for r in self.robots for v in self.command_vels]

    @property
    def n_attempted(self) -> int:
        return len(self.runs) * self.trajectories_per_run

    @property
    def n_frames(self) -> int:
        return int(round(self.episode_s * schema.FRAME_RATE_HZ))

    def to_dict(self) -> dict:
        """The config as JSON-able values (tuples as lists). ``controller`` is left out when it
        is the built-in ``"trot"``, so that configs (and their hashes) of stores walked by the
        built-in controller read as they did before the option existed."""
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, tuple):
                d[k] = list(v)
        if d.get("controller") == "trot":
            del d["controller"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> GenerationConfig:
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ConfigError(f"unknown config keys: {sorted(unknown)}")
        kw = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        kw.setdefault("vertical_walls", False)  # the physics of stores from before the option
        kw.setdefault("controller", "trot")  # stores from before the option: the built-in one
        return cls(**kw)

    def validate(self) -> GenerationConfig:
        """Raise ``ConfigError`` (one line) on the first invalid setting; return self.
        Whether the backend's simulator is installed is the backends' question
        (``backends.check_available``, called by the CLI and ``generate``): this module does
        not import the backends, which import it."""
        self._check_fields()
        return self

    def _check_fields(self) -> None:
        """Raise ``ConfigError`` on the first field out of its type or range."""
        for name in ("robots", "command_vels", "terrain_kinds", "terrain_proportions",
                     "difficulties", "added_mass_range"):
            if not isinstance(getattr(self, name), (tuple, list)):
                raise ConfigError(f"{name} must be a sequence, got "
                                  f"{getattr(self, name)!r}")
        for name in ("trajectories_per_run", "seed", "shard_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"{name} must be an integer, got {v!r}")
        for name in ("episode_s",):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ConfigError(f"{name} must be a number, got {v!r}")
        for name in ("command_vels", "terrain_proportions", "difficulties", "added_mass_range"):
            vals = getattr(self, name)
            if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in vals):
                raise ConfigError(f"{name} must hold numbers, got {vals!r}")
        if not isinstance(self.backend, str):
            raise ConfigError(f"backend must be a name, got {self.backend!r}")
        if not isinstance(self.extra, dict):
            raise ConfigError(f"extra must be a dict, got {self.extra!r}")
        if not self.robots:
            raise ConfigError("no robots given")
        for r in self.robots:
            if r not in schema.ROBOT_TYPES:
                raise ConfigError(f"unknown robot {r!r} (known: {', '.join(schema.ROBOT_TYPES)})")
        if len(set(self.robots)) != len(self.robots):
            raise ConfigError("robots listed twice")
        if int(self.trajectories_per_run) != self.trajectories_per_run or \
                self.trajectories_per_run < 1:
            raise ConfigError(f"trajectories per run must be a positive integer, got "
                              f"{self.trajectories_per_run}")
        if not self.command_vels:
            raise ConfigError("no command velocities given")
        for v in self.command_vels:
            if not math.isfinite(v) or not 0 < v <= 3.0:
                raise ConfigError(f"command velocity must be in (0, 3] m/s, got {v}")
        if not math.isfinite(self.episode_s) or self.episode_s <= 0 or self.n_frames < 2:
            raise ConfigError(f"episode length must be >= 0.04 s, got {self.episode_s}")
        for k in self.terrain_kinds:
            if k not in TERRAIN_KINDS:
                raise ConfigError(f"unknown terrain {k!r} (known: {', '.join(TERRAIN_KINDS)})")
        if len(self.terrain_proportions) != len(self.terrain_kinds):
            raise ConfigError(f"terrain_proportions needs one value per terrain kind "
                              f"({len(self.terrain_kinds)}), got {len(self.terrain_proportions)}")
        if any(p < 0 or not math.isfinite(p) for p in self.terrain_proportions) or \
                sum(self.terrain_proportions) <= 0:
            raise ConfigError(f"terrain proportions must be >= 0 with a positive sum, got "
                              f"{list(self.terrain_proportions)}")
        if not self.difficulties or any(not 0 <= d <= 1 for d in self.difficulties):
            raise ConfigError(f"difficulties must be in [0, 1], got {list(self.difficulties)}")
        if len(self.added_mass_range) != 2:
            raise ConfigError(f"added mass range must be (lo, hi) in kg, got "
                              f"{self.added_mass_range}")
        lo, hi = self.added_mass_range
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi or abs(lo) > 50 or \
                abs(hi) > 50:
            raise ConfigError(f"added mass range must be lo <= hi within +-50 kg, got "
                              f"{self.added_mass_range}")
        if int(self.seed) != self.seed or self.seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {self.seed}")
        if self.backend not in ("mujoco", *BACKENDS_RESERVED) and ":" not in self.backend:
            raise ConfigError(f"unknown backend {self.backend!r} (available: mujoco, "
                              f"{', '.join(BACKENDS_RESERVED)})")
        if int(self.shard_size) != self.shard_size or self.shard_size < 1:
            raise ConfigError(f"shard size must be a positive integer, got {self.shard_size}")
        if not isinstance(self.controller, str) or not self.controller.strip():
            raise ConfigError(f"controller must be a name, module:Class or a policy file, got "
                              f"{self.controller!r}")
        if self.controller != "trot" and self.backend != "mujoco":
            raise ConfigError(f"controller {self.controller!r} runs on the mujoco backend only "
                              f"(the {self.backend} backend runs the built-in trot controller)")

    def terrain_mix(self) -> dict[str, float]:
        """Kind -> normalised proportion (kinds not listed get 0)."""
        total = float(sum(self.terrain_proportions))
        mix = dict.fromkeys(TERRAIN_KINDS, 0.0)
        for k, p in zip(self.terrain_kinds, self.terrain_proportions, strict=True):
            mix[k] += float(p) / total
        return mix


PRESETS: dict[str, GenerationConfig] = {
    # 2 robots x 2 commands x 16 trajectories of 60 s: about 1.5 min on 2 cores
    "default": GenerationConfig(),
    # the original's settings: 180 s episodes, 200 robots per (robot, velocity) run; shards of
    # 100 step 100 robots per batch, where the whole loop runs 0.87x its raw physics (ANYmal B;
    # 0.80x at 50, 0.67x at 32: benchmarks/sim_throughput.py)
    "paper": GenerationConfig(trajectories_per_run=200,
                              command_vels=(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
                              episode_s=180.0, shard_size=100),
    # smoke tests
    "tiny": GenerationConfig(trajectories_per_run=2, command_vels=(0.5,), episode_s=4.0,
                             shard_size=2),
}


def preset(name: str, **overrides) -> GenerationConfig:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r} (known: {', '.join(PRESETS)})")
    return replace(PRESETS[name], **overrides)
