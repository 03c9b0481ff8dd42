"""Tests of behaviorbench.benchmark.mabe."""
