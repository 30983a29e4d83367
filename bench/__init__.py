"""Benchmarks of the real ``clinicore serve`` (``python -m bench``, ``make bench``).

``bench/harness.py`` starts the server, seeds it and drives it with a load generator in a separate
process; every other module here that defines ``SCENARIO`` (a ``harness.Scenario``) adds its routes.
Never run as tests.
"""
