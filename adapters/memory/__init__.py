"""In-process adapters: the embedded default for cache, limits, sessions and queue, plus fakes."""
