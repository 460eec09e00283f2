"""Uploaded images: one validator for every way a file reaches an image field (admin, forms, API, imports, the shell
through `full_clean()`), and the name the file is stored under.

A file is accepted when it is at most `settings.SHOP_MAX_IMAGE_BYTES`, Pillow reads it as a JPEG, PNG, WebP or GIF, it
has at most `settings.SHOP_MAX_IMAGE_PIXELS` pixels, and its name ends in an image extension. The stored name always
ends in the extension of the real format (`stored_image_name`), so the server's content type is the image's own: a
GIF named `x.pdf` is refused, a PNG named `x.jpg` is stored as `x.png`.
"""

import warnings
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.deconstruct import deconstructible
from PIL import Image

DEFAULT_MAX_IMAGE_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_IMAGE_PIXELS = 25_000_000
# Formats a browser shows, as Pillow names them, with their extensions (the first is the one a renamed file gets).
IMAGE_EXTENSIONS = {
    "JPEG": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "PNG": (".png",),
    "WEBP": (".webp",),
    "GIF": (".gif",),
}
ALLOWED_IMAGE_FORMATS = frozenset(IMAGE_EXTENSIONS)
_ANY_IMAGE_EXTENSION = frozenset(extension for extensions in IMAGE_EXTENSIONS.values() for extension in extensions)


def max_image_bytes() -> int:
    """settings.SHOP_MAX_IMAGE_BYTES, 5 MB when unset (read per call so tests can override it)."""
    return getattr(settings, "SHOP_MAX_IMAGE_BYTES", DEFAULT_MAX_IMAGE_BYTES)


def max_image_pixels() -> int:
    """settings.SHOP_MAX_IMAGE_PIXELS (width x height), 25 megapixels when unset."""
    return getattr(settings, "SHOP_MAX_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS)


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.1f}".removesuffix(".0")


def _probe(value) -> tuple[str | None, tuple[int, int]]:
    """(Pillow's format name, (width, height)) of an uploaded file or field file, reading only what Pillow needs;
    the file is left at its start. Raises: ValidationError when Pillow cannot read it or it is a decompression bomb."""
    file = getattr(value, "file", value)  # a FieldFile wraps the upload
    source = file.temporary_file_path() if hasattr(file, "temporary_file_path") else file
    if hasattr(file, "seek"):
        file.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow warns from MAX_IMAGE_PIXELS and raises from twice that; our own, lower limit is checked below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                found = image.format, image.size
                image.verify()
    except Image.DecompressionBombError as error:
        raise ValidationError(
            "The image has more pixels than we can accept; the limit is %(limit)s megapixels.",
            code="too_many_pixels",
            params={"limit": _megapixels(max_image_pixels())},
        ) from error
    except Exception as error:  # Pillow raises many kinds (UnidentifiedImageError, SyntaxError, OSError...)
        raise ValidationError(
            "Upload a valid image. The file you uploaded was either not an image or a corrupted image.",
            code="invalid_image",
        ) from error
    finally:
        if hasattr(file, "seek"):
            file.seek(0)
    return found


@deconstructible
class ImageUploadValidator:
    """Refuses an upload that is too big, not a JPEG, PNG, WebP or GIF, has too many pixels, or is named with
    anything but an image extension (the module's docstring says why). A file already stored is not read again."""

    def __call__(self, value) -> None:
        if not value or getattr(value, "_committed", False):
            return
        size = getattr(value, "size", None)
        limit = max_image_bytes()
        if size is not None and size > limit:
            raise ValidationError(
                "The image is %(size)s; the limit is %(limit)s.",
                code="file_too_large",
                params={"size": filesizeformat(size), "limit": filesizeformat(limit)},
            )
        image_format, (width, height) = _probe(value)
        if image_format not in ALLOWED_IMAGE_FORMATS:
            raise ValidationError(
                "%(format)s images are not accepted; upload a JPEG, PNG, WebP or GIF.",
                code="image_format",
                params={"format": image_format or "This kind of"},
            )
        pixel_limit = max_image_pixels()
        if width * height > pixel_limit:
            raise ValidationError(
                "The image is %(width)s x %(height)s pixels (%(megapixels)s megapixels); the limit is %(limit)s "
                "megapixels. Scale it down and upload it again.",
                code="too_many_pixels",
                params={
                    "width": width,
                    "height": height,
                    "megapixels": _megapixels(width * height),
                    "limit": _megapixels(pixel_limit),
                },
            )
        name = PurePath(getattr(value, "name", "") or "")
        if name.suffix.lower() not in _ANY_IMAGE_EXTENSION:
            raise ValidationError(
                "“%(name)s” is not named as an image; its name must end in .jpg, .png, .webp or .gif (this one is "
                "a %(format)s).",
                code="image_extension",
                params={"name": name.name, "format": image_format},
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ImageUploadValidator)

    def __hash__(self) -> int:
        return hash(ImageUploadValidator)


validate_image_upload = ImageUploadValidator()


def stored_image_name(value, filename: str) -> str:
    """`filename` ending in the extension of the file's real format: kept when it already names that format
    (`photo.jpeg`), replaced otherwise (a PNG named `photo.jpg` becomes `photo.png`). For `upload_to` callables."""
    path = PurePath(filename)
    try:
        image_format, _size = _probe(value)
    except ValidationError:  # not validated (a raw save): the name is kept, and the validator refuses it elsewhere
        return filename
    extensions = IMAGE_EXTENSIONS.get(image_format)
    if not extensions or path.suffix.lower() in extensions:
        return filename
    return str(path.with_suffix(extensions[0]))
