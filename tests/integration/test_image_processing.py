"""The Pillow ImageProcessor against the hostile set: bombs refused before decoding, corrupt
and truncated images refused, metadata (GPS above all) gone from the stored copy and the
thumbnail, orientation applied, every accepted type re-encoded."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from adapters.media import PillowImageProcessor
from tailtracker_core.errors import FileRejected
from tailtracker_core.model.files import MediaType
from tests.fixtures import files as samples

LIMITS = {"max_pixels": 50_000_000, "max_edge": 4096, "thumbnail_edge": 256}


@pytest.fixture
def processor() -> PillowImageProcessor:
    return PillowImageProcessor()


def _no_metadata(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    assert not image.getexif(), "EXIF left in the stored copy"
    assert image.getexif().get_ifd(samples.GPS_IFD) == {}
    assert "exif" not in image.info and "xmp" not in image.info and "XML:com.adobe.xmp" not in image.info
    assert "comment" not in image.info and "Comment" not in image.info
    assert b"Exif\x00\x00" not in data and b"PhoneMaker" not in data and b"Example Street" not in data
    assert b"52,31" not in data and b"secret location" not in data


def test_a_phone_jpeg_loses_gps_and_every_other_tag_and_is_turned_upright(
    processor: PillowImageProcessor,
) -> None:
    source = samples.jpeg_with_gps((640, 480), orientation=6)
    assert Image.open(io.BytesIO(source)).getexif().get_ifd(samples.GPS_IFD)  # it really carries GPS
    result = processor.process(source, MediaType.JPEG, **LIMITS)
    for variant in (result.original, result.thumbnail):
        _no_metadata(variant.data)
        assert variant.content_type is MediaType.JPEG
    # orientation 6 = rotate 90°: the 640 x 480 sensor image is displayed 480 x 640
    assert (result.original.width, result.original.height) == (480, 640)
    assert Image.open(io.BytesIO(result.original.data)).size == (480, 640)
    assert max(Image.open(io.BytesIO(result.thumbnail.data)).size) == 256


@pytest.mark.parametrize(
    ("make", "media", "stored_as"),
    [
        (samples.png, MediaType.PNG, MediaType.PNG),
        (samples.webp, MediaType.WEBP, MediaType.WEBP),
        (samples.heic, MediaType.HEIC, MediaType.JPEG),
        (samples.jpeg, MediaType.JPEG, MediaType.JPEG),
    ],
)
def test_every_accepted_type_is_re_encoded_without_metadata(
    processor: PillowImageProcessor, make, media: MediaType, stored_as: MediaType
) -> None:
    result = processor.process(make(), media, **LIMITS)
    assert result.original.content_type is stored_as
    decoded = Image.open(io.BytesIO(result.original.data))
    assert decoded.format == {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}[stored_as.value]
    assert (decoded.width, decoded.height) == (result.original.width, result.original.height)
    _no_metadata(result.original.data)
    _no_metadata(result.thumbnail.data)


def test_transparency_survives_in_png(processor: PillowImageProcessor) -> None:
    result = processor.process(samples.png(alpha=True), MediaType.PNG, **LIMITS)
    assert Image.open(io.BytesIO(result.original.data)).mode == "RGBA"


def test_a_large_photo_is_scaled_down_to_the_stored_edge(processor: PillowImageProcessor) -> None:
    result = processor.process(
        samples.jpeg((3000, 1000)), MediaType.JPEG, max_pixels=50_000_000, max_edge=1200, thumbnail_edge=100
    )
    assert (result.original.width, result.original.height) == (1200, 400)
    assert (result.thumbnail.width, result.thumbnail.height) == (100, 33)


def test_a_pixel_bomb_is_refused_from_its_header_fast(processor: PillowImageProcessor) -> None:
    bomb = samples.pixel_bomb_png(50_000, 50_000)
    assert len(bomb) < 100_000  # tiny on the wire, 7.5 GB decoded
    started = time.perf_counter()
    with pytest.raises(FileRejected, match="pixels"):
        processor.process(bomb, MediaType.PNG, **LIMITS)
    assert time.perf_counter() - started < 0.5


def test_the_pixel_cap_is_the_setting_not_pillows(processor: PillowImageProcessor) -> None:
    with pytest.raises(FileRejected, match="megapixels"):
        processor.process(
            samples.jpeg((1200, 1000)), MediaType.JPEG, max_pixels=1_000_000, max_edge=4096, thumbnail_edge=64
        )


@pytest.mark.parametrize(
    ("make", "media"),
    [
        (samples.jpeg, MediaType.JPEG),
        (samples.png, MediaType.PNG),
        (samples.webp, MediaType.WEBP),
        (samples.heic, MediaType.HEIC),
    ],
)
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_truncated_images_are_refused(
    processor: PillowImageProcessor, make, media: MediaType, keep: float
) -> None:
    with pytest.raises(FileRejected, match=r"corrupt or truncated|pixels"):
        processor.process(samples.truncated(make(), keep), media, **LIMITS)


def test_a_file_cannot_choose_another_decoder(processor: PillowImageProcessor) -> None:
    # PNG bytes declared (by their sniffed type) as JPEG are not decoded as PNG.
    with pytest.raises(FileRejected):
        processor.process(samples.png(), MediaType.JPEG, **LIMITS)


def test_garbage_after_a_valid_header_is_refused(processor: PillowImageProcessor) -> None:
    data = bytearray(samples.jpeg())
    data[400:] = bytes(len(data) - 400)
    with pytest.raises(FileRejected):
        processor.process(bytes(data)[:600], MediaType.JPEG, **LIMITS)
