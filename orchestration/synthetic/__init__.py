"""Synthetic landing data and its truth, for the demo, tests and benchmarks (never production)."""
