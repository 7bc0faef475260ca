"""Print the OpenAPI document the app generates (the committed docs/openapi.json):

python -m entrypoints.http.openapi > docs/openapi.json
"""

from __future__ import annotations

import json
import sys
import tempfile
from typing import Any

from litestar.serialization import encode_json

from entrypoints.bootstrap import Settings, build

from .app import create_app

__all__ = ["document", "main", "render"]


def document() -> dict[str, Any]:
    """The schema of an app over throwaway in-memory adapters (the schema does not depend on them)."""
    with tempfile.TemporaryDirectory() as var_dir:
        container = build(Settings(database_url="memory://", var_dir=var_dir, schema_enabled=True))
        try:
            # Through Litestar's encoder (it knows its own spec objects), back to plain JSON.
            return json.loads(encode_json(create_app(container).openapi_schema.to_schema()))  # type: ignore[no-any-return]
        finally:
            container.close()


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    sys.stdout.write(render(document()))


if __name__ == "__main__":
    main()
