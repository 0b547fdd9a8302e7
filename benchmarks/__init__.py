"""Benchmarks (run as scripts: .venv/bin/python benchmarks/NAME.py)."""
