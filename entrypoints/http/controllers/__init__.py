"""Thin controllers, one module per area: parse, call one use case, map the result."""
