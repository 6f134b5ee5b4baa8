"""Performance benchmarks against vdirsyncer (issue 8): `uv run --group bench python -m tests.benchmarks`.

Not collected by pytest (pyproject's norecursedirs names `benchmarks`); nothing here
asserts a time. See docs/performance.md for the figures and how to read them.
"""
