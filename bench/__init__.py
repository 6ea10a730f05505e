"""Benchmarks: each runs the naive baseline beside ours in the same run (``python -m bench.NAME``).

Figures, with the command and the machine, are recorded in ``BENCHMARKS.md``.
"""
