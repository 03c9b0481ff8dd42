"""ANYmal B's tables (Menagerie ``anymal_b``): base collision geometry and the three links of
each leg, mirrored per leg."""

from __future__ import annotations

from .parts import IDQ as _IDQ
from .parts import Q_Y90 as _Q_Y90
from .parts import Geom, Inertial, Link, Quat

BASE_GEOMS = (
    Geom("box", (0.2655, 0.135, 0.12), (0.0, 0.0, 0.08)),
    Geom("cylinder", (0.05, 0.05), (0.227, 0.116, 0.0), _Q_Y90),
    Geom("cylinder", (0.05, 0.05), (0.227, -0.116, 0.0), _Q_Y90),
    Geom("cylinder", (0.05, 0.05), (-0.227, 0.116, 0.0), _Q_Y90),
    Geom("cylinder", (0.05, 0.05), (-0.227, -0.116, 0.0), _Q_Y90),
    Geom("box", (0.05, 0.05, 0.035), (0.2155, 0.0, -0.09)),
    Geom("box", (0.05, 0.05, 0.035), (-0.2155, 0.0, -0.09)),
    Geom("box", (0.2655, 0.01, 0.035), (0.0, 0.0, -0.09)),
)

# Principal-axes quaternions differ per leg (mirrored frames); transcribed verbatim.
_B_INERTIA_QUATS: dict[str, tuple[Quat, Quat, Quat]] = {
    "LF": ((0.996866, 0.0379822, 0.0252009, -0.0646548),
           (0.74395, -0.0633414, 0.0362707, 0.664237),
           (0.677954, -0.0950614, -0.0578104, 0.726636)),
    "RF": ((0.996866, -0.0379822, 0.0252009, 0.0646548),
           (0.664237, 0.0362707, -0.0633414, 0.74395),
           (0.726636, -0.0578104, -0.0950614, 0.677954)),
    "LH": ((0.996866, 0.0379822, -0.0252009, 0.0646548),
           (0.664237, -0.0362707, 0.0633414, 0.74395),
           (0.726636, 0.0578104, 0.0950615, 0.677954)),
    "RH": ((0.996866, -0.0379822, -0.0252009, -0.0646548),
           (0.74395, 0.0633414, -0.0362707, 0.664237),
           (0.677954, 0.0950614, 0.0578104, 0.726636)),
}
_LEG_SIGNS = {"LF": (1.0, 1.0), "RF": (1.0, -1.0), "LH": (-1.0, 1.0), "RH": (-1.0, -1.0)}


def leg_links(leg: str) -> tuple[Link, Link, Link]:
    """ANYmal B leg: positions mirror with (sx front/hind, sy left/right)."""
    sx, sy = _LEG_SIGNS[leg]
    qh, qt, qs = _B_INERTIA_QUATS[leg]
    hip = Link(
        f"{leg}_HIP", (sx * 0.277, sy * 0.116, 0.0), _IDQ,
        Inertial(1.42462, (sx * 0.0645163, -sy * 0.0037871, -0.000152184), qh,
                 (0.00243341, 0.00230249, 0.00197758)),
        (1.0, 0.0, 0.0),
        (Geom("cylinder", (0.08, 0.05), (sx * 0.0635, -sy * 0.009, 0.0), (1.0, sx, 0.0, 0.0)),
         Geom("cylinder", (0.045, 0.015), (sx * 0.0635, -sy * 0.074, 0.0), (1.0, sx, 0.0, 0.0))),
    )
    thigh = Link(
        f"{leg}_THIGH", (sx * 0.0635, sy * 0.041, 0.0), _IDQ,
        Inertial(1.63498, (-sx * 0.00389797, sy * 0.0542266, -0.214583), qt,
                 (0.0122697, 0.0120427, 0.00228302)),
        (0.0, 1.0, 0.0),
        (Geom("box", (0.04, 0.02, 0.125), (0.0, sy * 0.035, -0.125),
              (0.997373, sy * 0.0724365, 0.0, 0.0)),
         Geom("cylinder", (0.06, 0.06), (0.0, sy * 0.069, -0.25), (1.0, 1.0, 0.0, 0.0)),
         Geom("cylinder", (0.066, 0.06), (0.0, -sy * 0.005, 0.0),
              (0.654029, sy * 0.75647, 0.0, 0.0))),
    )
    shank = Link(
        f"{leg}_SHANK", (0.0, sy * 0.109, -0.25), _IDQ,
        Inertial(0.472163, (sx * 0.0696396, -sy * 0.0132494, -0.150905), qs,
                 (0.0116034, 0.0110666, 0.000723761)),
        (0.0, 1.0, 0.0),
        (Geom("box", (0.04, 0.034, 0.065), (sx * 0.065, -sy * 0.015, 0.01), (1.0, 0.0, 1.0, 0.0)),
         Geom("cylinder", (0.015, 0.14), (sx * 0.1, -sy * 0.02, -0.160625)),
         Geom("sphere", (0.031,), (sx * 0.1, -sy * 0.02, -0.298), foot=True)),
    )
    return hip, thigh, shank

