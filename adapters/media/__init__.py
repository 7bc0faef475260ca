"""Image processing adapters (Pillow, pillow-heif)."""

from adapters.media.pillow import PillowImageProcessor, heif_available

__all__ = ["PillowImageProcessor", "heif_available"]
