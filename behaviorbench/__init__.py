"""behaviorbench: simulated quadruped behaviour data and a benchmark for behaviour representations."""

__version__ = "0.1.0"
