"""``benchmarks/locomotion.py --set``: FIELD=VALUE overrides of the controller config, and how
they meet the per-robot defaults (``ControllerConfig.robot_overrides``)."""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "locomotion.py"


@pytest.fixture(scope="module")
def locomotion():
    sys.path.insert(0, str(SCRIPT.parent))        # the script imports its sibling modules
    try:
        spec = importlib.util.spec_from_file_location("locomotion_cli", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(SCRIPT.parent))


def test_a_field_set_by_hand_applies_to_every_robot(locomotion):
    """``--set duty_slow=0.6`` gives both robots 0.6 (it drops B's default override of that
    field and keeps B's others); without it B keeps its own default."""
    default = locomotion.controller_config([])
    assert default.for_robot("anymal_b").duty_slow != default.for_robot("anymal_c").duty_slow
    cfg = locomotion.controller_config(["duty_slow=0.6"])
    assert cfg.for_robot("anymal_b").duty_slow == cfg.for_robot("anymal_c").duty_slow == 0.6
    assert cfg.for_robot("anymal_b").v_int_max == default.for_robot("anymal_b").v_int_max


def test_robot_overrides_on_the_command_line(locomotion):
    cfg = locomotion.controller_config(["robot_overrides=anymal_c:kp_z:90,anymal_b:ki_v:0.5"])
    assert cfg.robot_overrides == (("anymal_c", "kp_z", 90.0), ("anymal_b", "ki_v", 0.5))
    assert cfg.for_robot("anymal_c").kp_z == 90.0
    none = locomotion.controller_config(["robot_overrides="])
    assert none.for_robot("anymal_b") == none.for_robot("anymal_c") == none


@pytest.mark.parametrize("bad", ["robot_overrides=anymal_b:duty_slow",
                                 "robot_overrides=anymal_d:duty_slow:0.6",
                                 "robot_overrides=anymal_b:duty_slow:fast"])
def test_bad_robot_overrides_exit_with_a_message(locomotion, bad):
    with pytest.raises(SystemExit, match="robot_overrides"):
        locomotion.controller_config([bad])
