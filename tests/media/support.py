"""Test material for media: images and PDFs generated on the fly, and the two storage backends
(a local directory, and S3 on a real moto server on 127.0.0.1)."""
import io
import struct
import uuid
import zlib

import pytest
from PIL import Image

from backend.storage import LocalStorage, S3Storage

GPS_IFD = 0x8825


def jpeg_with_gps(size=(640, 480), orientation=None):
    """A JPEG carrying camera make, GPS coordinates (and an orientation when given) in its EXIF."""
    img = Image.new("RGB", size, (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x0110] = "Model 9"  # Model
    if orientation:
        exif[0x0112] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 30.0)})
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif, quality=90)
    return buf.getvalue()


def two_colour_jpeg(orientation):
    """A landscape 400x200 JPEG, red on the left and blue on the right, with an EXIF orientation."""
    img = Image.new("RGB", (400, 200), (255, 0, 0))
    img.paste((0, 0, 255), (200, 0, 400, 200))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif, quality=95)
    return buf.getvalue()


def image_bytes(fmt="PNG", size=(120, 80), mode="RGB", colour=(10, 200, 30), **save):
    img = Image.new(mode, size, colour)
    buf = io.BytesIO()
    img.save(buf, fmt, **save)
    return buf.getvalue()


def _chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_bomb(width=10_000, height=5_000):
    """A complete, valid 1-bit greyscale PNG of width x height pixels (50 MP by default) that weighs a
    few kilobytes: all-zero rows compress to almost nothing. Built row by row, so it costs no memory."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def minimal_pdf(extra=b"", catalog=b"", objects=()):
    """A small structurally valid PDF (catalog, pages, one page, xref table, trailer); `extra` goes into
    the page dictionary, `catalog` into the catalog, `objects` are appended as objects 4, 5, …"""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " + extra + b">>",
        *objects,
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def text_pdf(modify=None, **save):
    """A one-page PDF with real text (Helvetica), built with pikepdf; `modify(pdf)` may add to it
    before it is saved with pikepdf's `save` options (e.g. object streams)."""
    import pikepdf
    from pikepdf import Dictionary, Name

    pdf = pikepdf.new()
    font = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
    content = pdf.make_stream(b"BT /F1 14 Tf 72 760 Td (Quote: 12 000 yuan, elevator repair) Tj ET")
    page = pikepdf.Page(Dictionary(Type=Name.Page, MediaBox=[0, 0, 595, 842], Contents=content,
                                   Resources=Dictionary(Font=Dictionary(F1=font))))
    pdf.pages.append(page)
    if modify:
        modify(pdf)
    buf = io.BytesIO()
    pdf.save(buf, **save)
    return buf.getvalue()


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-compatible server (moto in server mode) on 127.0.0.1 for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def make_s3(endpoint):
    """An S3Storage on a fresh bucket of the moto server."""
    store = S3Storage(f"linli-test-{uuid.uuid4().hex[:12]}", endpoint, "test-key", "test-secret", "us-east-1")
    store.client.create_bucket(Bucket=store.bucket)
    return store


@pytest.fixture(params=["local", "s3"])
def store(request, app, tmp_path):
    """Each backend in turn, installed as the app's storage for this test (both pass the same tests)."""
    if request.param == "local":
        backend = LocalStorage(str(tmp_path / "media"))
    else:
        backend = make_s3(request.getfixturevalue("s3_server"))
    previous = app.extensions.get("linli.storage")
    app.extensions["linli.storage"] = backend
    yield backend
    if previous is None:
        app.extensions.pop("linli.storage", None)
    else:
        app.extensions["linli.storage"] = previous


def stored_keys(backend):
    """Every object key in the backend (to prove that nothing was left behind)."""
    if isinstance(backend, LocalStorage):
        import os

        root = backend.root
        return sorted(os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/")
                      for d, _, files in os.walk(root) for f in files)
    listing = backend.client.list_objects_v2(Bucket=backend.bucket)
    return sorted(o["Key"] for o in listing.get("Contents", []))
