"""Photos: only JPEG/PNG/WEBP under a pixel limit, re-encoded (EXIF and GPS gone), resized,
stored under random names outside static/; files of a failed transaction are removed."""
from __future__ import annotations

import io
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.exceptions import ServiceUnavailable

from civic.domain import Invalid

log = logging.getLogger("civic")


class StorageFailed(ServiceUnavailable):
    """A file could not be written (disk full, read-only, gone): the request answers 503,
    its transaction rolls back and the files it wrote are removed."""

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
#: refuse images above this many pixels before decoding them (decompression bombs)
MAX_PIXELS = 40_000_000
MAX_BYTES = 10 * 1024 * 1024
DISPLAY_SIZE = 1600
THUMB_SIZE = 400


@dataclass
class Processed:
    display: bytes
    thumb: bytes
    width: int
    height: int


def process_image(data: bytes) -> Processed:
    """Decode, orient, strip metadata and re-encode as JPEG. Raises Invalid with the reason."""
    if len(data) > MAX_BYTES:
        raise Invalid(_("照片不能超过 10 MB。"), field="photos")
    try:
        with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as probe:
            if probe.width * probe.height > MAX_PIXELS:
                raise Invalid(_("照片尺寸过大（像素太多）。"), field="photos")
            probe.verify()
        with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            if img.mode not in ("RGB", "L"):
                background = Image.new("RGB", img.size, "white")
                rgba = img.convert("RGBA")
                background.paste(rgba, mask=rgba.getchannel("A"))
                img = background
            img = img.convert("RGB")
            display = img.copy()
            display.thumbnail((DISPLAY_SIZE, DISPLAY_SIZE))
            thumb = img.copy()
            thumb.thumbnail((THUMB_SIZE, THUMB_SIZE))
    except Invalid:
        raise
    except Image.DecompressionBombError:
        raise Invalid(_("照片尺寸过大（像素太多）。"), field="photos") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise Invalid(_("只能上传 JPEG、PNG 或 WEBP 格式的照片。"), field="photos") from None
    out_d, out_t = io.BytesIO(), io.BytesIO()
    display.save(out_d, "JPEG", quality=82, optimize=True)  # no exif= argument: none written
    thumb.save(out_t, "JPEG", quality=75, optimize=True)
    return Processed(out_d.getvalue(), out_t.getvalue(), display.width, display.height)


def folder(kind: str) -> Path:
    path = Path(current_app.config["UPLOAD_FOLDER"]) / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_stem() -> str:
    return secrets.token_hex(16)


def store(session: Session, kind: str, files: dict[str, bytes]) -> None:
    """Write files now; delete them again if the session's transaction rolls back."""
    base = folder(kind)
    written = session.info.setdefault("civic_uploads", [])
    for name, data in files.items():
        path = base / name
        tmp = path.with_suffix(path.suffix + ".part")
        try:
            tmp.write_bytes(data)
            tmp.replace(path)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            log.error("could not write an uploaded file (%s): %s", kind, e.strerror or e)
            raise StorageFailed() from e
        written.append(path)


def path_of(kind: str, name: str) -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / kind / name


@event.listens_for(Session, "after_commit")
def _keep(session):
    session.info.pop("civic_uploads", None)


@event.listens_for(Session, "after_soft_rollback")
def _discard(session, previous_transaction):
    if previous_transaction.parent is not None:  # a savepoint: the outer transaction decides
        return
    for path in session.info.pop("civic_uploads", []):
        path.unlink(missing_ok=True)
