"""Benchmarks of the local stack: `make bench` (or `python -m bench`) writes bench/RESULTS.md."""
