"""Hand-run benchmarks (never run by the test suite or CI): see docs/performance.md."""
