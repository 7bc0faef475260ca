"""Test kit for embedders: Hypothesis strategies and the port contract suites."""
