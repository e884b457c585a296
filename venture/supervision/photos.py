"""Visit photos for the supervision report: a small JPEG thumbnail as a ``data:`` URI (the PDF renderer fetches
nothing else) and the capture time from the photo's EXIF data where the camera wrote one."""

import base64
import datetime
import io
import logging

from PIL import Image, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

THUMBNAIL = (480, 360)
EXIF_IFD = 0x8769
DATETIME_ORIGINAL = 0x9003  # in the Exif IFD
DATETIME = 0x0132  # in the main IFD (when the original time is missing)


def _capture_time(exif):
    raw = exif.get_ifd(EXIF_IFD).get(DATETIME_ORIGINAL) or exif.get(DATETIME)
    if not raw:
        return None
    try:
        return datetime.datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def thumbnail(field_file):
    """(data URI of a JPEG thumbnail, capture time or None) of an image file; (None, None) when it is not an image
    Pillow can read."""
    try:
        with field_file.open("rb") as fh, Image.open(fh) as image:
            taken = _capture_time(image.getexif())
            image = ImageOps.exif_transpose(image).convert("RGB")
            image.thumbnail(THUMBNAIL)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=80)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        logger.warning("visit photo %s left out of the report: %s", field_file.name, exc)
        return None, None
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii"), taken
