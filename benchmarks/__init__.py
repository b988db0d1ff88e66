"""Benchmarks of the qpi SDK; see benchmarks/README.md."""
