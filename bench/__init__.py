"""Myelin's benchmark suite: Myelin against Synapse on loopback, scenario by scenario.

Entry point: ``bench/run.py`` (``make bench`` / ``make bench-quick``). See docs/benchmarks.md.
"""
