"""The ImageProcessor on Pillow (and pillow-heif for HEIC): decode safely, orient, strip,
re-encode, thumbnail.

What makes it safe:
- The format is fixed before decoding: Pillow opens the bytes only with the decoder of the
  type the magic bytes named (`formats=[...]`), so a file cannot pick another decoder.
- Pixel cap before decode: `Image.open` reads the header only; width x height is checked
  against `max_pixels` before `load()`, so a PNG that declares 50000 x 50000 pixels is refused
  in microseconds with no pixel buffer allocated. Pillow's own DecompressionBombError is a
  second net.
- Truncated or corrupt data fails `load()` (LOAD_TRUNCATED_IMAGES stays off) and is refused.
- The stored copy is a new encoding of the pixels only: EXIF (GPS above all), XMP, IPTC,
  comments and text chunks are not carried over (`info` is emptied, no `exif=`/`xmp=` given).
  The EXIF orientation is applied to the pixels first. The ICC profile is kept, so colours
  stay right (it identifies a colour space, not a person or a place).
- Only the first frame of an animated WebP/PNG is kept.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageFile, ImageOps

from tailtracker_core.errors import FileRejected
from tailtracker_core.model.files import MediaType
from tailtracker_core.ports import ImageVariants, ProcessedImage

__all__ = ["PillowImageProcessor", "heif_available"]

ImageFile.LOAD_TRUNCATED_IMAGES = False

try:  # pillow-heif: the maintained libheif binding (HEIC from phones)
    import pillow_heif

    pillow_heif.register_heif_opener(thumbnails=False)
    _HEIF = True
except ImportError:  # pragma: no cover - it is a dependency; an embedder may leave it out
    _HEIF = False

_PILLOW_FORMAT = {
    MediaType.JPEG: "JPEG",
    MediaType.PNG: "PNG",
    MediaType.WEBP: "WEBP",
    MediaType.HEIC: "HEIF",
}
# What each type is stored as: HEIC becomes JPEG (browsers cannot show HEIC).
_OUTPUT = {
    MediaType.JPEG: MediaType.JPEG,
    MediaType.PNG: MediaType.PNG,
    MediaType.WEBP: MediaType.WEBP,
    MediaType.HEIC: MediaType.JPEG,
}


def heif_available() -> bool:
    return _HEIF


class PillowImageProcessor:
    def __init__(self, *, jpeg_quality: int = 85, webp_quality: int = 85) -> None:
        self.jpeg_quality = jpeg_quality
        self.webp_quality = webp_quality

    def supports(self, media_type: MediaType) -> bool:
        return media_type in _PILLOW_FORMAT and (media_type is not MediaType.HEIC or _HEIF)

    def process(
        self, data: bytes, media_type: MediaType, *, max_pixels: int, max_edge: int, thumbnail_edge: int
    ) -> ImageVariants:
        if not self.supports(media_type):
            raise FileRejected(f"{media_type.value} cannot be decoded here")
        image = self._decode(data, media_type, max_pixels)
        try:
            out_type = _OUTPUT[media_type]
            image = self._normalise(image, out_type)
            original = image.copy()
            if max(original.size) > max_edge:
                original.thumbnail((max_edge, max_edge), Image.Resampling.LANCZOS)
            thumb = image.copy()
            thumb.thumbnail((thumbnail_edge, thumbnail_edge), Image.Resampling.LANCZOS)
            icc = image.info.get("icc_profile")
            return ImageVariants(self._encode(original, out_type, icc), self._encode(thumb, out_type, icc))
        finally:
            image.close()

    def _decode(self, data: bytes, media_type: MediaType, max_pixels: int) -> Image.Image:
        try:
            image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMAT[media_type]])
            width, height = image.size  # from the header: nothing decoded yet
            if width <= 0 or height <= 0:
                raise FileRejected("the image has no pixels")
            if width * height > max_pixels:
                image.close()
                raise FileRejected(
                    f"the image is {width} x {height} pixels; at most {max_pixels // 1_000_000} "
                    "megapixels are accepted"
                )
            image.load()
        except FileRejected:
            raise
        except Image.DecompressionBombError:
            raise FileRejected("the image declares more pixels than are accepted") from None
        except MemoryError:
            raise FileRejected("the image is too large to decode") from None
        except Exception:  # every decoder failure (truncated, corrupt, unsupported variant)
            raise FileRejected("the image is corrupt or truncated and cannot be decoded") from None
        return image

    @staticmethod
    def _normalise(image: Image.Image, out_type: MediaType) -> Image.Image:
        """Apply the EXIF orientation to the pixels, and bring the mode to one the output
        format stores (JPEG: RGB or L; PNG/WebP: with alpha where there is any)."""
        icc = image.info.get("icc_profile")
        oriented = ImageOps.exif_transpose(image) or image
        if oriented is not image:
            image.close()
        if out_type is MediaType.JPEG:
            target = "L" if oriented.mode in ("L", "1", "I;16", "I") else "RGB"
        elif oriented.mode in ("RGBA", "LA", "PA") or (
            oriented.mode == "P" and "transparency" in oriented.info
        ):
            target = "RGBA"
        else:
            target = "L" if oriented.mode in ("L", "1") else "RGB"
        converted = oriented if oriented.mode == target else oriented.convert(target)
        if converted is not oriented:
            oriented.close()
        # Nothing of the upload's metadata survives: an empty `info`, then the ICC profile only.
        converted.info = {"icc_profile": icc} if icc else {}
        return converted

    def _encode(self, image: Image.Image, out_type: MediaType, icc: Any) -> ProcessedImage:
        buffer = io.BytesIO()
        options: dict[str, Any] = {"icc_profile": icc} if icc else {}
        if out_type is MediaType.JPEG:
            image.save(buffer, "JPEG", quality=self.jpeg_quality, optimize=True, progressive=True, **options)
        elif out_type is MediaType.PNG:
            image.save(buffer, "PNG", optimize=True, **options)
        else:
            image.save(buffer, "WEBP", quality=self.webp_quality, method=4, **options)
        width, height = image.size
        return ProcessedImage(buffer.getvalue(), out_type, width, height)
