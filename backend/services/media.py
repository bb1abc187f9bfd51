"""Photos and attachments: the upload pipeline, who may see what, attaching to objects, clean-up.

Every image is decoded (JPEGs by libjpeg-turbo through simplejpeg, the others by Pillow) and
re-encoded by Pillow, never stored as sent; each decode first reserves its estimated memory from the
worker's DecodeBudget. PDFs are accepted only as documents, after qpdf has walked every object in a
resource-limited child process (media_pdf.py). See docs/media.md for the pipeline and its settings.
"""
import contextlib
import ctypes
import functools
import hashlib
import io
import json
import logging
import math
import os
import re
import struct
import subprocess
import sys
import threading
import time
import uuid
import warnings
import zlib
from datetime import timedelta

import simplejpeg
from flask import current_app
from PIL import Image, ImageCms, ImageOps, PngImagePlugin, UnidentifiedImageError

from backend.errors import DomainError, Forbidden, Invalid, NotFound
from backend.extensions import db
from backend.models.base import utcnow
from backend.models.media import Media
from backend.security import require_community
from backend.services import ratelimit
from backend.storage import StorageError, storage

log = logging.getLogger("linli.media")

PDF = "application/pdf"
# Pillow format → (stored content type, file extension). Anything else is refused.
IMAGE_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
PURPOSES = ("photo", "document")
JPEG_QUALITY = 85
WEBP_QUALITY = 85
THUMB_QUALITY = 80
# Pillow warns past MAX_IMAGE_PIXELS and raises past twice that; here a bomb is always an error
# (set once for the process, not per call: warnings.catch_warnings is not thread-safe).
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
# PNG text chunks (tEXt, zTXt, iTXt) are inflated by Image.open itself, before any check of ours, up
# to 64 MB an image by default; they are all dropped anyway, so 4 MB is plenty (a PNG with more is
# refused as damaged).
PngImagePlugin.MAX_TEXT_MEMORY = 4 << 20


def _storage_unavailable(exc):
    log.error("media storage failed: %s", exc)
    return DomainError("storage_unavailable", "文件存储暂不可用，请稍后再试", status=503)


# ---------------------------------------------------------------- the pipeline (pure functions)


BUSY_MESSAGE = "服务器繁忙，请稍后再试"


# One message for every file the pipeline does not take, whatever it was (docs/errors.md).
UNSUPPORTED = "不支持的文件格式：图片须为 JPEG、PNG 或 WebP（公告等附件另可为 PDF）"


class Refused(Exception):
    """A file the pipeline will not store (422), or cannot take now (503 media_busy, with
    details.retry_after seconds); code and Chinese message for the JSON error (docs/errors.md)."""

    def __init__(self, code, message, status=422, **details):
        super().__init__(message)
        self.code, self.message, self.status, self.details = code, message, status, details


class Sanitised:
    """What the pipeline produced: the bytes to store and what the row records."""

    def __init__(self, content_type, ext, data, width=None, height=None, thumbnail=None):
        self.content_type, self.ext, self.data = content_type, ext, data
        self.width, self.height, self.thumbnail = width, height, thumbnail
        self.sha256 = hashlib.sha256(data).hexdigest()


DAMAGED = "图片已损坏或不完整，请重新上传"
# How each format starts: a file that starts like one of ours but cannot be opened is damaged (a
# cut-off upload), not of an unsupported type.
SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def sanitise_image(data, max_pixels=40_000_000, max_side=2560, thumb_side=360, admit=None, max_cost=None):
    """Decode an image (JPEG/PNG/WebP, identified by content), apply EXIF orientation, cap its size,
    drop every metadata block and re-encode it; also make the thumbnail. Raises Refused.

    `admit(cost)` is a context manager that holds the decode until `cost` bytes of the process's
    memory budget are free (DecodeBudget.admit); without it the decode runs at once. An image whose
    decoding alone would cost more than `max_cost` bytes (the whole budget) is refused as too large."""
    # Pillow's own bomb guard at the same cap (it raises past 2x, warns past 1x); ours below is exact.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        img = Image.open(io.BytesIO(data), formats=tuple(IMAGE_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused("image_too_large", "图片像素过大", max_pixels=max_pixels) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        if data.startswith(SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
            raise Refused("image_damaged", DAMAGED, reason=str(exc)[:200]) from None
        raise Refused("unsupported_file", UNSUPPORTED, reason=str(exc)[:200]) from None
    with img:
        # a multi-picture JPEG (MPO: some phones' dual-camera shots) is a JPEG whose first picture is kept
        fmt = "JPEG" if img.format == "MPO" else img.format
        width, height = img.size
        # Image.open only read the header: refuse before a single pixel is decoded.
        if width * height > max_pixels or width < 1 or height < 1:
            raise Refused("image_too_large", "图片像素过大", width=width, height=height, max_pixels=max_pixels)
        try:
            # all the data the header promises must be there: decoders fill in what is missing
            if fmt == "JPEG":
                _check_jpeg_scans(data)
            elif fmt == "PNG":
                _check_png_data(data)
            cost = decode_cost(img, fmt, max_side)
            if max_cost is not None and cost > max_cost:
                raise Refused("image_too_large", "图片像素过大", width=width, height=height,
                              needed_mb=cost >> 20, budget_mb=max_cost >> 20)
            with (admit or _at_once)(cost):
                out = _decode_and_fit(img, data, fmt, max_side)
                main = _encode(out, fmt)
                # the thumbnail comes from the already decoded and shrunk image, never from a second
                # decode: an integer box reduce, then a small bicubic step (plenty for 360 px)
                scale = min(1.0, thumb_side / max(out.size))
                thumb = out.resize((max(1, round(out.width * scale)), max(1, round(out.height * scale))),
                                   Image.Resampling.BICUBIC, reducing_gap=1.0)
                thumbnail = _encode(_flatten(thumb), "JPEG", quality=THUMB_QUALITY)
                size = out.size
                # give the pixels back before the budget is: Image.open's object holds the whole decoded
                # image until closed, and the next decode may start the moment the budget is released
                del out, thumb
                img.close()
        except Image.DecompressionBombError:
            raise Refused("image_too_large", "图片像素过大", max_pixels=max_pixels) from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError, ZeroDivisionError,
                zlib.error, struct.error) as exc:
            # LOAD_TRUNCATED_IMAGES stays False: a cut-off upload is an error, not a grey stripe.
            raise Refused("image_damaged", DAMAGED, reason=str(exc)[:200]) from None
    content_type, ext = IMAGE_FORMATS[fmt]
    return Sanitised(content_type, ext, main, size[0], size[1], thumbnail)


@contextlib.contextmanager
def _at_once(cost):
    yield


class DecodeBudget:
    """The memory that one worker process lets its uploads take at once, in bytes (docs/media.md
    "Memory"). Each decode (and each PDF inspection, for its child's limit) reserves its estimated
    cost (decode_cost) before it starts and gives it back when it ends; a request that does not fit
    waits, first come first served, up to `wait_seconds`, and is then refused with 503 media_busy.

    Per user: once a user holds something, another decode of theirs starts only while all of theirs
    stay within `user_share` of the budget — so one user's burst is decoded a few at a time (a
    single decode larger than the share still runs, alone), and other users' uploads pass it in the
    queue. A waiting request holds one of the worker's threads, so a user with `waiting_per_user`
    requests already waiting gets the 503 at once. Requests waiting only for their own user's share do not hold up those behind them; a
    request that waits for room does (so large decodes are not starved by a stream of small ones).

    Per process: gunicorn's workers each have their own; a user's uploads that reach two workers get
    a share of each."""

    def __init__(self, total, user_share=0.5, wait_seconds=10.0, retry_after=5, waiting_per_user=2):
        self.total = int(total)
        self.per_user = max(1, int(total * user_share))
        self.wait_seconds, self.retry_after = wait_seconds, retry_after
        self.waiting_per_user = waiting_per_user
        self._cond = threading.Condition()
        self._queue = []  # [user, cost] of the requests waiting, in arrival order
        self.used, self.by_user, self.peak = 0, {}, 0

    @contextlib.contextmanager
    def admit(self, user, cost):
        """Hold `cost` bytes (at most the whole budget) for the `with` block; raises Refused (503)."""
        ticket = [user, min(int(cost), self.total)]
        deadline = time.monotonic() + self.wait_seconds
        with self._cond:
            if not self._may_start(ticket, arriving=True) \
                    and sum(1 for waiting in self._queue if waiting[0] == user) >= self.waiting_per_user:
                # a waiting request holds one of the worker's threads: one user may not hold them all
                raise Refused("media_busy", BUSY_MESSAGE, status=503, retry_after=self.retry_after)
            self._queue.append(ticket)
            try:
                while not self._may_start(ticket):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise Refused("media_busy", BUSY_MESSAGE, status=503, retry_after=self.retry_after)
                    self._cond.wait(remaining)
            finally:
                self._queue.remove(ticket)
                self._cond.notify_all()  # the head of the queue may have changed
            self.used += ticket[1]
            self.by_user[user] = self.by_user.get(user, 0) + ticket[1]
            self.peak = max(self.peak, self.used)
        try:
            yield
        finally:
            with self._cond:
                self.used -= ticket[1]
                self.by_user[user] -= ticket[1]
                if not self.by_user[user]:
                    del self.by_user[user]
                idle = self.used == 0
                self._cond.notify_all()
            if idle and ticket[1] >= _TRIM_AFTER:
                release_free_memory()

    def _waits_for_its_user(self, ticket):
        held = self.by_user.get(ticket[0], 0)
        return held > 0 and held + ticket[1] > self.per_user

    def _may_start(self, ticket, arriving=False):
        """Whether `ticket` may start now: the first request in the queue that is not waiting for its
        own user's share must be this one (an arriving one counts as queued last), and it must fit."""
        for other in self._queue + ([ticket] if arriving else []):
            if self._waits_for_its_user(other):
                continue
            return other is ticket and self.used + ticket[1] <= self.total
        return False


# After a decode of at least this much, when nothing else is being decoded, freed memory is handed
# back to the system (release_free_memory).
_TRIM_AFTER = 32 << 20
try:
    _LIBC = ctypes.CDLL("libc.so.6")
    _LIBC.malloc_trim.argtypes = [ctypes.c_size_t]
except (OSError, AttributeError):  # not glibc: nothing to trim
    _LIBC = None


def release_free_memory():
    """glibc keeps freed heap memory for the next allocation, in every arena its threads used; after
    a burst of large decodes that is hundreds of megabytes no one uses. malloc_trim(0) returns it."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def budget():
    """This process's DecodeBudget, built once per app from its config."""
    ext = current_app.extensions
    if "linli.decode_budget" not in ext:
        cfg = current_app.config
        ext["linli.decode_budget"] = DecodeBudget(cfg["MEDIA_DECODE_BUDGET_MB"] << 20, cfg["MEDIA_DECODE_USER_SHARE"],
                                                  cfg["MEDIA_DECODE_WAIT_SECONDS"])
    return ext["linli.decode_budget"]


# Encoders' buffers, the thumbnail, Python's objects: what does not grow with the picture.
_COST_MARGIN = 8 << 20
# Bytes per pixel of Pillow's image memory, by mode (RGB is stored as 4 bytes, like RGBA).
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2}


def decode_cost(img, fmt, max_side):
    """An upper estimate, from the header alone, of the memory (bytes) that decoding, shrinking and
    re-encoding `img` takes at its peak; tests/media/test_budget.py checks it against measured peaks.

    T is the stored size (long side ≤ max_side), s the ratio of the shrink, b bytes per pixel:
    - JPEG, decoded at DCT scale m/8 to D pixels (b = 4, 1 for greyscale): while decoding, D·b plus
      for progressive files libjpeg's coefficients of the whole image (2 bytes per sample of every
      component, so 3 bytes a pixel at 4:2:0, 6 at 4:4:4) and for CMYK an unpacked copy; afterwards
      D·b, the BOX filter's intermediate (D·s·b) and two copies of the result (2·T·b).
    - PNG: Pillow's image (1, 2 or 4 bytes a pixel), a 4-byte copy when a palette is expanded, a
      premultiplied copy when there is alpha (Pillow resizes RGBA as RGBa), then as for JPEG.
    - WebP: libwebp's canvas and its copy for the next frame, the frame handed to Python and Pillow's
      image: 15 bytes a pixel (a 40 MP WebP needs about 700 MB), then as for JPEG.
    Plus 8 MB for what does not grow with the picture (encoders' buffers, the thumbnail)."""
    width, height = img.size
    pixels = width * height
    target_w, target_h = _fit(width, height, max_side) if max(width, height) > max_side else (width, height)
    target = target_w * target_h
    if fmt == "JPEG":
        m = jpeg_scale(width, height, max_side)
        dw, dh = math.ceil(width * m / 8), math.ceil(height * m / 8)
        decoded, b = dw * dh, (1 if img.mode == "L" else 4)
        during = decoded * b * (2 if img.mode == "CMYK" else 1)
        if img.info.get("progressive") or img.info.get("progression"):
            layers = getattr(img, "layer", None) or [(0, 1, 1, 0)] * {"L": 1, "RGB": 3}.get(img.mode, 4)
            hmax, vmax = max(h for _, h, _, _ in layers) or 1, max(v for _, _, v, _ in layers) or 1
            during += 2 * pixels * sum(h * v for _, h, v, _ in layers) / (hmax * vmax)
        after = b * (decoded + decoded * target_w / dw + 2 * target)
        return int(max(during, after)) + _COST_MARGIN
    if fmt == "PNG":
        b = _BYTES_PER_PIXEL.get(img.mode, 4)
        cost = pixels * b
        work = b
        if img.mode in ("P", "PA"):
            cost += 4 * pixels  # expanded to RGB(A) before shrinking
            work = 4
        elif img.mode == "1":
            cost += pixels
        alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    else:  # WebP
        cost, work, alpha = 15 * pixels, 4, img.mode == "RGBA"
    if alpha and max(width, height) > max_side:
        cost += 4 * pixels  # the premultiplied copy that Pillow resizes
    return int(cost + work * (pixels * target_w / width + 2 * target)) + _COST_MARGIN


# ---- all the data is there


# JPEG frame types decoded: baseline, extended sequential, progressive (Huffman), and their
# arithmetic-coded twins. Lossless and hierarchical JPEGs are refused.
_SOF_SEQUENTIAL = {0xC0, 0xC1, 0xC9}
_SOF_PROGRESSIVE = {0xC2, 0xCA}
# libjpeg passes over the whole image for every scan: a few bytes per scan header would make a CPU
# bomb of thousands of scans. Encoders write about 10 (mozjpeg's optimised scripts up to about 20).
_MAX_SCANS = 100


def _check_jpeg_scans(data):
    """Walk the JPEG's markers (skipping entropy-coded data) to its EOI and check that its scans carry
    every coefficient of every component: libjpeg decodes a progressive file that stops after its
    first scans — or a sequential one whose scan is cut — without an error, filling in grey or blur.
    (A scan whose entropy data is cut short is caught by the strict decode: simplejpeg strict=True.)"""
    end, pos, scans = len(data), 2, 0
    components, progressive, coverage = None, False, {}
    while True:
        # a marker: 0xFF (fill bytes allowed), then its code
        if pos >= end or data[pos] != 0xFF:
            raise ValueError("JPEG marker expected")
        while pos < end and data[pos] == 0xFF:
            pos += 1
        if pos >= end:
            raise ValueError("JPEG ends inside a marker")
        code = data[pos]
        pos += 1
        if code == 0xD9:  # EOI
            break
        if 0xD0 <= code <= 0xD7 or code == 0x01:
            continue  # standalone markers
        if pos + 2 > end:
            raise ValueError("JPEG ends inside a segment")
        length = int.from_bytes(data[pos:pos + 2], "big")
        segment = data[pos + 2:pos + length]
        if length < 2 or len(segment) != length - 2:
            raise ValueError("JPEG ends inside a segment")
        pos += length
        if 0xC0 <= code <= 0xCF and code not in (0xC4, 0xC8, 0xCC):  # a frame header (SOFn)
            if code not in _SOF_SEQUENTIAL | _SOF_PROGRESSIVE or components is not None:
                raise ValueError(f"unsupported JPEG frame type 0x{code:02X}")
            progressive, huffman = code in _SOF_PROGRESSIVE, code in (0xC0, 0xC1, 0xC2)
            height, width = int.from_bytes(segment[1:3], "big"), int.from_bytes(segment[3:5], "big")
            components = [segment[6 + 3 * i] for i in range(segment[5])]
            sampling = {segment[6 + 3 * i]: (segment[7 + 3 * i] >> 4, segment[7 + 3 * i] & 0x0F)
                        for i in range(segment[5])}
            hmax = max((h for h, _ in sampling.values()), default=1) or 1
            vmax = max((v for _, v in sampling.values()), default=1) or 1
            # 8x8 blocks of each component (without the padding of interleaved scans: a lower bound)
            blocks = {c: math.ceil(math.ceil(width * h / hmax) / 8) * math.ceil(math.ceil(height * v / vmax) / 8)
                      for c, (h, v) in sampling.items()}
            coverage = {c: [None] * 64 for c in components}  # the lowest bit position received per coefficient
        elif code == 0xDA:  # start of scan: its header, then entropy-coded data up to the next marker
            if components is None:
                raise ValueError("JPEG scan before its frame header")
            scans += 1
            if scans > _MAX_SCANS:
                raise ValueError(f"JPEG with more than {_MAX_SCANS} scans")
            count = segment[0]
            ids = [segment[1 + 2 * i] for i in range(count)]
            ss, se, approx = segment[1 + 2 * count], segment[2 + 2 * count], segment[3 + 2 * count]
            ah, al = approx >> 4, approx & 0x0F
            if not progressive:
                ss, se, ah, al = 0, 63, 0, 0
            for cid in ids:
                if cid not in coverage or ss > se or se > 63:
                    raise ValueError("JPEG scan names an unknown component")
                for k in range(ss, se + 1):
                    if ah == 0 or coverage[cid][k] is not None:
                        coverage[cid][k] = al if coverage[cid][k] is None else min(coverage[cid][k], al)
            start, pos = pos, _skip_entropy_data(data, pos)
            if huffman and ss == 0 and ah == 0:
                # every block's DC value takes at least a one-bit Huffman code: a header that claims
                # 6000x6000 pixels over a few hundred bytes of data is refused before any decoding
                needed = sum(blocks[cid] for cid in ids) // 8
                if pos - start < needed:
                    raise ValueError(f"JPEG scan data too short: {pos - start} bytes for at least {needed}")
    if components is None:
        raise ValueError("JPEG without a frame header")
    missing = [cid for cid, bits in coverage.items() if any(b != 0 for b in bits)]
    if missing:
        raise ValueError(f"JPEG data incomplete: scans missing for components {missing}")


def _skip_entropy_data(data, pos):
    """The position of the first marker after entropy-coded data (0xFF00 is a stuffed byte, 0xFFD0–D7
    restart markers belong to the data)."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            raise ValueError("JPEG ends inside a scan")
        code = data[pos + 1]
        if code == 0x00 or 0xD0 <= code <= 0xD7:
            pos += 2
        elif code == 0xFF:
            pos += 1
        else:
            return pos


# Adam7: (first column, first row, column step, row step) of each pass
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _check_png_data(data):
    """The PNG's chunks run to IEND and its IDAT stream inflates to at least the rows its header
    promises: Pillow stops at the end of the zlib stream and leaves the missing rows black. Inflated
    in 1 MB steps and not kept (about 0.1 s for a 12 MP photo)."""
    pos, end = 8, len(data)
    header, inflater, produced, expected = None, zlib.decompressobj(), 0, None
    while True:
        if pos + 8 > end:
            raise ValueError("PNG ends before its IEND chunk")
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        if pos + 12 + length > end:
            raise ValueError(f"PNG ends inside its {kind!r} chunk")
        payload = memoryview(data)[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", payload[:13])
            bits = depth * _PNG_CHANNELS[colour]
            passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
            expected = 0
            for x0, y0, dx, dy in passes:
                columns, rows = max(0, -(-(width - x0) // dx)), max(0, -(-(height - y0) // dy))
                if columns and rows:
                    expected += rows * (1 + (columns * bits + 7) // 8)
            header = True
        elif kind == b"IDAT":
            if header is None:
                raise ValueError("PNG image data before its header")
            chunk = payload
            while chunk and produced < expected:
                produced += len(inflater.decompress(chunk, 1 << 20))
                chunk = inflater.unconsumed_tail
        elif kind == b"IEND":
            break
    if expected is None or produced < expected:
        raise ValueError(f"PNG image data incomplete: {produced} of {expected} bytes")


def jpeg_scale(width, height, max_side):
    """The DCT scale M/8 (M = 1…8) that libjpeg-turbo decodes at: the smallest that still leaves the long
    side at least max_side (so the picture is shrunk exactly once more, by the BOX filter)."""
    if max(width, height) <= max_side:
        return 8
    target_w, target_h = _fit(width, height, max_side)
    return next(m for m in range(1, 9) if math.ceil(width * m / 8) >= target_w and math.ceil(height * m / 8) >= target_h)


def _fit(width, height, max_side):
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _decode_jpeg(img, data, max_side):
    """Decode with libjpeg-turbo through simplejpeg with strict=True: any warning of libjpeg (premature
    end of data, a corrupt Huffman code, a marker where data was expected…) refuses the file, where
    Pillow silently fills the rest of the picture with grey. Larger pictures are decoded at a reduced
    DCT scale (M/8, never below max_side: a 4000x3000 photo at 6/8, 3000x2250) straight into the array
    that becomes the image's memory (no copy)."""
    width, height = img.size
    colorspace = {"L": "GRAY", "RGB": "RGBX", "CMYK": "CMYK"}[img.mode]
    m = jpeg_scale(width, height, max_side)
    sizes = {}
    if m < 8:
        sizes = {"min_width": math.ceil(width * m / 8), "min_height": math.ceil(height * m / 8)}
    try:
        array = simplejpeg.decode_jpeg(data, colorspace, strict=True, **sizes)
    except ValueError as exc:
        raise Refused("image_damaged", DAMAGED, reason=str(exc)[:200]) from None
    size = (array.shape[1], array.shape[0])
    if img.mode == "L":
        return Image.frombuffer("L", size, array, "raw", "L", 0, 1)
    if img.mode == "RGB":
        return Image.frombuffer("RGBX", size, array, "raw", "RGBX", 0, 1)
    # CMYK, in Adobe's inverted convention as Pillow's own JPEG plugin assumes (unpacked into a copy)
    rawmode = img.tile[0].args[0] if img.tile and img.tile[0].args else "CMYK;I"
    return Image.frombuffer("CMYK", size, array, "raw", rawmode, 0, 1)


def _orientation(img):
    """The EXIF orientation, 1 when absent or unreadable (broken EXIF must not cost a good photo)."""
    try:
        value = img.getexif().get(ImageOps.ExifTags.Base.Orientation, 1)
        return value if isinstance(value, int) else 1
    except Exception:  # noqa: BLE001 — any parse failure of the EXIF block means "no orientation"
        return 1


TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
             5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
             8: Image.Transpose.ROTATE_90}


def _decode_and_fit(img, data, fmt, max_side):
    """Decode (JPEG through _decode_jpeg), shrink, convert to sRGB and a savable mode, then turn
    upright. Only the first frame of an animation is decoded. The result carries no metadata at all."""
    orientation = _orientation(img)
    icc = img.info.get("icc_profile")
    if fmt == "JPEG":
        out = _decode_jpeg(img, data, max_side)
    else:
        img.load()
        out = img
    if out.mode in ("1", "P", "PA"):
        out = _savable(out, fmt)  # palette images only resize with NEAREST: expand them first
    if max(out.size) > max_side:
        # the long side does not change under rotation, so shrink first and rotate the smaller image;
        # BOX is area averaging (OpenCV's INTER_AREA): sharp, no ringing, and the fastest proper filter.
        # The target comes from the declared size, so a DCT-scaled JPEG ends exactly where Pillow would.
        out = out.resize(_fit(*img.size, max_side), Image.Resampling.BOX)
    if out.mode == "RGBX":
        out = out.convert("RGB")
    out = _savable(_to_srgb(out, icc), fmt)
    if orientation in TRANSPOSE:
        out = out.transpose(TRANSPOSE[orientation])
    if out is img:
        out = img.copy()
    out.info = {}  # no EXIF, XMP, ICC, text chunks, comments: nothing rides along to the encoder
    return out


def _to_srgb(img, icc):
    """Convert from the embedded ICC profile to sRGB, so that dropping the profile keeps the colours."""
    if not icc or img.mode not in ("RGB", "RGBA", "CMYK"):
        return img
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if img.mode != "CMYK" and "sRGB" in (ImageCms.getProfileDescription(src) or ""):
            return img  # already sRGB (most Android photos): nothing to convert
        mode = "RGBA" if img.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(img, src, ImageCms.createProfile("sRGB"), outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return img  # a broken profile is dropped; the pixels are kept as they are


def _savable(img, fmt):
    """A mode the output format stores: JPEG → RGB or L; PNG → RGB(A) or L(A); WebP → RGB(A)."""
    mode = img.mode
    if mode.startswith("I") or mode == "F":
        img, mode = img.point(lambda v: v / 256).convert("L"), "L"  # 16-bit grey: scaled to 8 bits, not clipped
    alpha = mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in img.info
    grey = mode in ("1", "L", "LA", "La")
    if fmt == "JPEG":
        target = "L" if grey else "RGB"
    elif grey and fmt == "PNG":
        target = "LA" if alpha else "L"
    else:
        target = "RGBA" if alpha else "RGB"
    return img if mode == target else img.convert(target)


def _flatten(img):
    """Thumbnails are JPEG: alpha is composed onto white."""
    if img.mode in ("RGB", "L"):
        return img
    rgba = img.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _encode(img, fmt, quality=None):
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.save(buf, "JPEG", quality=quality or JPEG_QUALITY)
    elif fmt == "PNG":
        img.save(buf, "PNG", compress_level=6)
    else:
        img.save(buf, "WEBP", quality=quality or WEBP_QUALITY, method=4)
    return buf.getvalue()


_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
PDF_INSPECTOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "media_pdf.py")
PDF_REFUSALS = {
    "document_damaged": "PDF 文件不完整或已损坏",
    "document_encrypted": "PDF 文件已加密，请上传未加密的文件",
    "document_active_content": "PDF 含有脚本、自动操作或嵌入文件，不能上传",
    "document_too_complex": "PDF 文件结构过于复杂，无法检查，请另存为普通 PDF 后再上传",
}


def check_pdf(data, memory=256 << 20, cpu_seconds=10, admit=None):
    """Accept only a well-formed, unencrypted PDF without active content (docs/media.md "PDFs").
    A quick look at the header and trailer first; then qpdf parses it and every object is walked in a
    child process limited to `memory` bytes and `cpu_seconds` (backend/services/media_pdf.py).
    Raises Refused; returns Sanitised (PDFs are stored as sent)."""
    if not data.startswith(b"%PDF-1.") and not data.startswith(b"%PDF-2."):
        raise Refused("unsupported_file", UNSUPPORTED)
    match = _STARTXREF.search(data[-1024:])
    if match is None:
        raise Refused("document_damaged", PDF_REFUSALS["document_damaged"])
    offset = int(match.group(1))
    target = data[offset:offset + 64] if 0 < offset < len(data) else b""
    # the xref pointer must land on a classic xref table or an xref stream object ("12 0 obj")
    if not (target.startswith(b"xref") or re.match(rb"\d+\s+\d+\s+obj", target)):
        raise Refused("document_damaged", PDF_REFUSALS["document_damaged"])
    with (admit or _at_once)(memory):  # the child may take that much
        verdict = _inspect_pdf(data, memory, cpu_seconds)
    if not verdict.get("ok"):
        code = verdict.get("code") if verdict.get("code") in PDF_REFUSALS else "document_damaged"
        raise Refused(code, PDF_REFUSALS[code], found=str(verdict.get("found", ""))[:200])
    return Sanitised(PDF, "pdf", data)


def _inspect_pdf(data, memory, cpu_seconds):
    """Run media_pdf.py on `data` in a child process; its JSON verdict. A child that is killed (memory,
    CPU time) or overruns its wall time is a "too complex" verdict; one that cannot start is a 503."""
    command = [sys.executable, "-I", PDF_INSPECTOR, str(memory), str(cpu_seconds)]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=2 * cpu_seconds + 5, check=False)
    except subprocess.TimeoutExpired:
        return {"ok": False, "code": "document_too_complex", "found": "time limit"}
    except OSError as exc:
        log.error("cannot start the PDF inspector: %s", exc)
        raise Refused("media_busy", BUSY_MESSAGE, status=503, retry_after=30) from None
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if done.returncode == 0 and lines:
        try:
            return json.loads(lines[-1])
        except ValueError:
            pass
    log.warning("PDF inspector ended with %s: %s", done.returncode, done.stderr.decode("utf-8", "replace")[-500:])
    return {"ok": False, "code": "document_too_complex", "found": f"inspector ended with {done.returncode}"}


def sanitise(data, purpose="photo", max_pixels=40_000_000, max_side=2560, thumb_side=360,
             pdf_memory=256 << 20, pdf_cpu_seconds=10, admit=None, max_cost=None):
    """Route by content, never by file name or the client's content type: PDFs only as documents."""
    # readers accept a PDF header anywhere in the first 1024 bytes, so that is what counts as "a PDF"
    if b"%PDF-" in data[:1024]:
        if purpose != "document":
            raise Refused("unsupported_file", UNSUPPORTED)
        return check_pdf(data, pdf_memory, pdf_cpu_seconds, admit)
    return sanitise_image(data, max_pixels, max_side, thumb_side, admit, max_cost)


# ---------------------------------------------------------------- use cases


def upload(user, data, purpose="photo", now=None):
    """Sanitise one uploaded file, store it (and its thumbnail) and record it, unattached."""
    if purpose not in PURPOSES:
        raise Invalid({"purpose": ["须为 photo 或 document"]})
    now = now or utcnow()
    _count_upload(user, now)
    if not data:
        raise Invalid({"file": ["文件为空"]})
    cfg = current_app.config
    try:
        pipeline = budget()
        result = sanitise(data, purpose, cfg["MEDIA_MAX_PIXELS"], cfg["MEDIA_MAX_SIDE"], cfg["MEDIA_THUMB_SIDE"],
                          cfg["MEDIA_PDF_MEMORY_MB"] << 20, cfg["MEDIA_PDF_CPU_SECONDS"],
                          admit=functools.partial(pipeline.admit, user.id), max_cost=pipeline.total)
    except Refused as exc:
        fields = {"fields": {"file": [exc.message]}} if exc.status == 422 else {}
        raise DomainError(exc.code, exc.message, status=exc.status, details={**fields, **exc.details}) from None
    stem = f"{now:%Y/%m}/{uuid.uuid4().hex}"
    media = Media(uploader_id=user.id, content_type=result.content_type, width=result.width,
                  height=result.height, size=len(result.data), sha256=result.sha256,
                  storage_key=f"{stem}.{result.ext}", thumbnail_key=f"{stem}-thumb.jpg" if result.thumbnail else None,
                  created_at=now)
    store = storage()
    written = []
    try:
        store.put(media.storage_key, result.data, result.content_type)
        written.append(media.storage_key)
        if result.thumbnail:
            store.put(media.thumbnail_key, result.thumbnail, "image/jpeg")
            written.append(media.thumbnail_key)
        db.session.add(media)
        db.session.commit()
    except BaseException as exc:
        db.session.rollback()
        for key in written:  # nothing stored on failure: no row, no object
            _delete_quietly(store, key)
        if isinstance(exc, StorageError):
            raise _storage_unavailable(exc) from exc
        raise
    return media


def _count_upload(user, now):
    """Count this attempt in the user's minute (committed at once, so that refused files count too);
    429 past MEDIA_UPLOADS_PER_MINUTE."""
    ratelimit.hit(f"upload:user:{user.id}", current_app.config["MEDIA_UPLOADS_PER_MINUTE"], 60, now,
                  code="too_many_uploads", message="上传过于频繁，请稍后再试")


def _delete_quietly(store, key):
    try:
        store.delete(key)
    except Exception:  # noqa: BLE001 — the orphan is logged; the original error matters more
        log.exception("could not delete stored object %s", key)


def get_media(user, media_id):
    """The media row, if the caller may see it (403 otherwise, 404 for unknown ids)."""
    media = db.session.get(Media, media_id)
    if media is None:
        raise NotFound("media_not_found", "文件不存在")
    check_visible(user, media)
    return media


def read_media(user, media_id, thumbnail=False):
    """(media, bytes, content type) of the file or its thumbnail, for those allowed to see it."""
    media = get_media(user, media_id)
    if thumbnail and not media.thumbnail_key:
        raise NotFound("thumbnail_not_found", "该文件没有缩略图")
    try:
        if thumbnail:
            return media, storage().get(media.thumbnail_key), "image/jpeg"
        return media, storage().get(media.storage_key), media.content_type
    except StorageError as exc:
        raise _storage_unavailable(exc) from exc


# ---------------------------------------------------------------- visibility


_visibility = {}


def register_visibility(attached_type, fn):
    """fn(user, attached_id) -> bool decides who may see media attached to that kind of object.
    Every kind that `attach` is called with must have one: a kind without a rule is seen by nobody."""
    _visibility[attached_type] = fn


def visible_to_community_of(model):
    """A rule for objects that anyone with a role in their community may read (published disclosure
    versions, emergency fund records): fn(user, attached_id) loads `model` by id and checks the
    caller's roles in the row's own community."""

    def rule(user, attached_id):
        row = db.session.get(model, attached_id)
        if row is None:
            return False
        require_community(user, row.community_id)
        return True

    rule.__qualname__ = f"visible_to_community_of({model.__name__})"
    return rule


def registered_kinds():
    """The attached types that have a visibility rule (for the app's self-check and the tests)."""
    return frozenset(_visibility)


def can_see(user, media):
    """Unattached: the uploader only. Attached: the rule registered for its kind; a kind without a
    rule is denied to everyone (deny by default: a new kind must say who may see it)."""
    if media.attached_type is None:
        return media.uploader_id == user.id
    fn = _visibility.get(media.attached_type)
    if fn is None:
        log.error("no visibility rule for media kind %r (media %s): denied", media.attached_type, media.id)
        return False
    try:
        return bool(fn(user, media.attached_id))
    except (Forbidden, NotFound):
        return False


def check_visible(user, media):
    """Raise 403 unless the user may see this media."""
    if not can_see(user, media):
        raise Forbidden("media_forbidden", "您无权查看该文件")


# ---------------------------------------------------------------- attaching (used by other domains)


def attach(user, media_ids, community_id, attached_type, attached_id, allow_pdf=False, field="media_ids"):
    """Bind uploaded media to an object; each must be the user's own, unattached (or already on this
    object) and an image (or a PDF when allow_pdf). Raises Invalid naming the bad ids under `field`.
    Adds to the session; the caller's use case commits."""
    ids = list(dict.fromkeys(media_ids or []))
    if not ids:
        return []
    # ids that cannot be a row (not an int, or past the INTEGER column) are simply not found: PostgreSQL
    # would otherwise fail the whole query with an out-of-range error
    queryable = [i for i in ids if isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**31]
    rows = {m.id: m for m in db.session.execute(
        db.select(Media).where(Media.id.in_(queryable)).with_for_update()).scalars()}
    problems = {mid: _problem(rows.get(mid), mid, user, (attached_type, attached_id, community_id), allow_pdf)
                for mid in ids}
    bad = [mid for mid, problem in problems.items() if problem]
    if bad:
        raise Invalid({field: [problems[mid] for mid in bad]}, details={"media_ids": bad})
    now = utcnow()
    for mid in ids:
        media = rows[mid]
        if media.attached_type is None:
            media.community_id, media.attached_type, media.attached_id, media.attached_at = (
                community_id, attached_type, attached_id, now)
    return [rows[mid] for mid in ids]


def _problem(media, mid, user, target, allow_pdf):
    """Why this media cannot be attached to target (attached_type, attached_id, community_id), or None."""
    if media is None or media.uploader_id != user.id:
        # someone else's upload is reported like a missing one: ids are not a way to probe
        return f"文件 {mid} 不存在或不是您上传的"
    if media.attached_type is not None and (media.attached_type, media.attached_id, media.community_id) != target:
        return f"文件 {mid} 已被其他内容使用"
    if not media.is_image and not (allow_pdf and media.content_type == PDF):
        return f"文件 {mid} 不是图片或 PDF" if allow_pdf else f"文件 {mid} 不是图片"
    return None


def attached_to(attached_type, attached_id):
    """The media attached to one object, in upload order (for the owning domain's responses)."""
    return db.session.execute(
        db.select(Media).filter_by(attached_type=attached_type, attached_id=attached_id).order_by(Media.id)
    ).scalars().all()


def attached_to_each(attached_type, attached_ids):
    """{object id: its media in upload order} for many objects of one type, in one statement (a
    list's page)."""
    found = {attached_id: [] for attached_id in attached_ids}
    if found:
        for item in db.session.execute(db.select(Media).where(
                Media.attached_type == attached_type, Media.attached_id.in_(list(found))).order_by(Media.id)).scalars():
            found[item.attached_id].append(item)
    return found


def media_sha256(media_id):
    """The hex SHA-256 of the stored bytes (the paper-ballot evidence hash of linli-vote/1)."""
    media = db.session.get(Media, media_id)
    if media is None:
        raise NotFound("media_not_found", "文件不存在")
    return media.sha256


# ---------------------------------------------------------------- clean-up


def collect_garbage(now=None, max_age=timedelta(days=1)):
    """Delete unattached uploads older than max_age, row first (so a concurrent attach wins), then
    their stored objects; also old rate counters. Returns the number of media removed."""
    now = now or utcnow()
    cutoff = now - max_age
    candidates = db.session.execute(
        db.select(Media.id, Media.storage_key, Media.thumbnail_key)
        .where(Media.attached_at.is_(None), Media.created_at < cutoff)
        .order_by(Media.id)
    ).all()
    store = storage()
    removed = 0
    for mid, key, thumb in candidates:
        # the WHERE repeats the condition: an attach committed meanwhile keeps its media
        deleted = db.session.execute(
            db.delete(Media).where(Media.id == mid, Media.attached_at.is_(None))
        ).rowcount
        db.session.commit()
        if deleted:
            removed += 1
            for k in (key, thumb):
                if k:
                    _delete_quietly(store, k)
    ratelimit.forget_before(now - timedelta(hours=1))
    db.session.commit()
    return removed
