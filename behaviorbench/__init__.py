"""behaviorbench: simulated quadruped behaviour data and a benchmark for representations."""

__version__ = "0.2.0"
