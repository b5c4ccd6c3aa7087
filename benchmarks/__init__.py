"""Benchmarks, run from the project root: `python -m benchmarks.engine` (not installed)."""
