"""Entities and value objects of the core (attrs classes, no I/O)."""
