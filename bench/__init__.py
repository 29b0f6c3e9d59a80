"""Benchmarks (not tests): `python -m bench.provider` measures the provider's information APIs against a bare
Starlette + SQL baseline on the same PostgreSQL data, in the same run (see docs/benchmarks.md)."""
