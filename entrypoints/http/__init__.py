"""The HTTP entrypoint: a Litestar app over the core's use cases (see docs/http-api.md)."""
