"""The image/PDF pipeline as pure functions: what is kept, what is removed, what is refused."""
import io
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from backend.services.media import Refused, check_pdf, sanitise
from tests.media.support import GPS_IFD, image_bytes, jpeg_with_gps, minimal_pdf, png_bomb, two_colour_jpeg


def reopen(data):
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def refused(data, **kwargs):
    with pytest.raises(Refused) as info:
        sanitise(data, **kwargs)
    return info.value


def test_gps_and_every_exif_tag_removed():
    out = sanitise(jpeg_with_gps())
    img = reopen(out.data)
    assert img.format == "JPEG" and out.content_type == "image/jpeg"
    assert dict(img.getexif()) == {} and dict(img.getexif().get_ifd(GPS_IFD)) == {}
    assert not {"exif", "xmp", "icc_profile", "comment"} & set(img.info)
    assert b"Exif" not in out.data and b"TestCam" not in out.data


@pytest.mark.parametrize("orientation,expected", [(6, "red_top"), (8, "blue_top"), (3, "blue_left"), (1, "red_left")])
def test_exif_orientation_applied(orientation, expected):
    out = sanitise(two_colour_jpeg(orientation))
    img = reopen(out.data).convert("RGB")
    if expected.endswith("top"):
        assert img.size == (200, 400) and (out.width, out.height) == (200, 400)
        first, second = img.getpixel((100, 50)), img.getpixel((100, 350))
    else:
        assert img.size == (400, 200)
        first, second = img.getpixel((50, 100)), img.getpixel((350, 100))
    red, blue = ((255, 0, 0), (0, 0, 255))
    want = (red, blue) if expected.startswith("red") else (blue, red)
    assert all(abs(a - b) < 40 for got, exp in zip((first, second), want) for a, b in zip(got, exp))


def test_long_side_capped_and_thumbnail_made():
    out = sanitise(image_bytes("JPEG", size=(6000, 1500)), max_side=2560, thumb_side=360)
    assert (out.width, out.height) == (2560, 640) and reopen(out.data).size == (2560, 640)
    thumb = reopen(out.thumbnail)
    assert thumb.format == "JPEG" and thumb.size == (360, 90)


def test_formats_kept_and_metadata_dropped_for_png_and_webp():
    from PIL import ImageCms, PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "taken at 39.9N 116.4E")
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    png = sanitise(image_bytes("PNG", mode="RGBA", colour=(1, 2, 3, 128), pnginfo=text, icc_profile=srgb))
    img = reopen(png.data)
    assert img.format == "PNG" and img.mode == "RGBA" and img.getpixel((0, 0))[3] == 128
    assert not {"Comment", "icc_profile", "exif"} & set(img.info) and b"39.9N" not in png.data
    webp = sanitise(image_bytes("WEBP", exif=Image.Exif().tobytes(), xmp=b"<x:xmpmeta>secret</x:xmpmeta>"))
    img = reopen(webp.data)
    assert img.format == "WEBP" and webp.content_type == "image/webp"
    assert not {"exif", "xmp", "icc_profile"} & set(img.info) and b"secret" not in webp.data


def test_odd_modes_become_savable():
    cmyk = sanitise(image_bytes("JPEG", mode="CMYK", colour=(0, 255, 255, 0)))
    assert reopen(cmyk.data).mode == "RGB"
    palette = sanitise(image_bytes("PNG", mode="P", colour=3))
    assert reopen(palette.data).mode in ("RGB", "RGBA")
    deep = sanitise(image_bytes("PNG", mode="I;16", colour=40000))
    img = reopen(deep.data)
    assert img.mode == "L" and 150 < img.getpixel((0, 0)) < 160


def test_sha256_is_of_the_stored_bytes():
    import hashlib

    out = sanitise(jpeg_with_gps())
    assert out.sha256 == hashlib.sha256(out.data).hexdigest()


def test_bomb_refused_from_the_header_before_any_decoding(monkeypatch):
    def no_decoding(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    error = refused(png_bomb(10_000, 5_000), max_pixels=40_000_000)
    assert error.code == "image_too_large"
    # past twice the cap Pillow itself raises; below it ours does: both before decoding
    assert refused(png_bomb(20_000, 10_000), max_pixels=40_000_000).code == "image_too_large"
    assert refused(image_bytes("PNG", size=(101, 100)), max_pixels=10_000).code == "image_too_large"


def test_truncated_and_damaged_images_refused():
    data = image_bytes("JPEG", size=(800, 600), colour=(120, 30, 60))
    assert refused(data[: len(data) // 2]).code == "image_damaged"
    png = image_bytes("PNG", size=(800, 600))
    assert refused(png[: len(png) - 40]).code == "image_damaged"
    assert not ImageFile.LOAD_TRUNCATED_IMAGES


@pytest.mark.parametrize("data", [b"", b"hello world", b"GIF89a" + b"\x00" * 40, image_bytes("GIF"),
                                  image_bytes("BMP"), image_bytes("TIFF")])
def test_non_images_and_other_formats_refused(data):
    assert refused(data).code == "unsupported_file"


def test_pdf_only_as_a_document():
    pdf = minimal_pdf()
    assert refused(pdf).code == "unsupported_file"  # a photo was expected
    out = sanitise(pdf, purpose="document")
    assert out.content_type == "application/pdf" and out.data == pdf and out.thumbnail is None
    # a document slot takes images too, re-encoded the same way
    assert sanitise(jpeg_with_gps(), purpose="document").content_type == "image/jpeg"


@pytest.mark.parametrize("data,code", [
    (b"%PDF-1.4\nnot really a pdf", "document_damaged"),
    (minimal_pdf()[:-30], "document_damaged"),
    (minimal_pdf().replace(b"/Catalog", b"/Catalos"), "document_damaged"),
    (minimal_pdf(extra=b"/AA << /O << /S /JavaScript /JS (app.alert(1)) >> >> "), "document_active_content"),
    (minimal_pdf(extra=b"/AA << /O << /S /Launch /F (calc.exe) >> >> "), "document_active_content"),
    (b"%PDX-1.4" + minimal_pdf()[8:], "unsupported_file"),
])
def test_fake_or_active_pdfs_refused(data, code):
    with pytest.raises(Refused) as info:
        check_pdf(data)
    assert info.value.code == code


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_animations_keep_their_first_frame_only(fmt):
    frames = [Image.new("RGB", (64, 48), colour) for colour in ((250, 0, 0), (0, 0, 250))]
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    img = reopen(sanitise(buf.getvalue()).data)
    assert getattr(img, "n_frames", 1) == 1
    red, _, blue = img.convert("RGB").getpixel((10, 10))
    assert red > 200 and blue < 50


def test_broken_exif_does_not_cost_a_good_photo():
    data = bytearray(jpeg_with_gps(orientation=6))
    start = data.index(b"Exif\x00\x00") + 6
    data[start:start + 8] = b"XX\x00\x2a\xff\xff\xff\xff"  # neither II nor MM, offset past the end
    out = sanitise(bytes(data))
    assert (out.width, out.height) == (640, 480)  # kept as stored: the orientation could not be read
    assert dict(reopen(out.data).getexif()) == {}


SAMPLES = {fmt: image_bytes(fmt, size=(40, 30), colour=(90, 140, 200)) for fmt in ("JPEG", "PNG", "WEBP")}
SAMPLES["PDF"] = minimal_pdf()


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(fmt=st.sampled_from(sorted(SAMPLES)), cut=st.integers(min_value=0, max_value=2000),
       flips=st.lists(st.tuples(st.integers(min_value=0, max_value=2000), st.integers(min_value=0, max_value=255)),
                      max_size=6),
       purpose=st.sampled_from(["photo", "document"]))
def test_damaged_files_are_refused_never_crash(fmt, cut, flips, purpose):
    data = bytearray(SAMPLES[fmt])
    for position, value in flips:
        data[position % len(data)] = value
    data = bytes(data[: max(1, len(data) - cut)])
    try:
        out = sanitise(data, purpose=purpose)
    except Refused as refusal:
        assert refusal.code in ("unsupported_file", "image_damaged", "image_too_large", "document_damaged",
                                "document_active_content")
    else:
        assert out.data and (out.content_type == "application/pdf" or reopen(out.data).size == (out.width, out.height))


# ---------------------------------------------------------------- cut-off data is refused, never filled in


def _noise_jpeg(size=(800, 600), **save):
    buf = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buf, "JPEG", **save)
    return buf.getvalue()


def test_tiny_jpeg_claiming_36_megapixels_is_refused_before_decoding(monkeypatch):
    """The adversarial test's 631-byte JPEG: a real header of 6000x6000 pixels, a few bytes of scan
    data, an end marker. libjpeg filled the rest with grey and a 2560² image was stored."""
    import simplejpeg

    flat = io.BytesIO()
    Image.new("RGB", (6000, 6000), (128, 128, 128)).save(flat, "JPEG", quality=50)
    flat = flat.getvalue()
    sos = flat.index(b"\xff\xda")
    header_end = sos + 2 + int.from_bytes(flat[sos + 2:sos + 4], "big")
    tiny = flat[:header_end] + b"\x00" * 8 + b"\xff\xd9"
    assert len(tiny) < 700 and Image.open(io.BytesIO(tiny)).size == (6000, 6000)

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded")

    monkeypatch.setattr(simplejpeg, "decode_jpeg", no_decoding)
    assert refused(tiny).code == "image_damaged"


def test_jpeg_cut_short_and_closed_with_an_end_marker_is_refused():
    data = _noise_jpeg()
    for cut in (len(data) // 3, len(data) // 2, len(data) - 100):
        error = refused(data[:cut] + b"\xff\xd9")
        assert error.code == "image_damaged", cut
    assert refused(data[: len(data) // 2] + b"\xff\xd9").details["reason"].startswith("Corrupt JPEG data")


def test_progressive_jpeg_stopped_after_its_first_scans_is_refused():
    data = _noise_jpeg(progressive=True)
    scans = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xDA]
    assert len(scans) > 3
    for last in (1, 3, len(scans) - 1):  # cut at a scan boundary: libjpeg says nothing and shows a blur
        error = refused(data[:scans[last]] + b"\xff\xd9")
        assert error.code == "image_damaged" and "scans missing" in error.details["reason"]
    assert sanitise(data).width == 800  # the whole file is fine


def _png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png_with_rows(width, height, rows, iend=True):
    """An RGB PNG whose header says `height` rows but whose (complete, valid) zlib stream holds `rows`."""
    raw = b"".join(b"\x00" + bytes((y * 7 + x) % 251 for x in range(width * 3)) for y in range(rows))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    out = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(raw))
    return out + (_png_chunk(b"IEND", b"") if iend else b"")


def test_png_with_missing_rows_or_without_its_end_is_refused():
    assert sanitise(_png_with_rows(100, 100, 100)).height == 100
    # Pillow stops where the zlib stream ends and leaves the missing rows black
    for rows in (1, 50, 99):
        error = refused(_png_with_rows(100, 100, rows))
        assert error.code == "image_damaged" and "incomplete" in error.details["reason"]
    assert refused(_png_with_rows(100, 100, 100, iend=False)).code == "image_damaged"
    png = image_bytes("PNG", size=(800, 600))
    for cut in (100, len(png) // 2, len(png) - 5):
        assert refused(png[:cut]).code == "image_damaged", cut


def test_interlaced_png_is_counted_pass_by_pass():
    buf = io.BytesIO()
    Image.effect_noise((301, 203), 50).convert("RGB").save(buf, "PNG")
    img = Image.open(io.BytesIO(buf.getvalue()))
    # Pillow does not write Adam7; build it: the rows of each pass, filter byte 0
    pixels = img.tobytes()
    passes = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
    raw = b"".join(b"\x00" + b"".join(pixels[(y * 301 + x) * 3:(y * 301 + x) * 3 + 3] for x in range(x0, 301, dx))
                   for x0, y0, dx, dy in passes for y in range(y0, 203, dy) if x0 < 301)
    ihdr = struct.pack(">IIBBBBB", 301, 203, 8, 2, 0, 0, 1)
    interlaced = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(raw))
    out = sanitise(interlaced + _png_chunk(b"IEND", b""))
    assert reopen(out.data).convert("RGB").tobytes() == pixels  # lossless, every pass in place
    short = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(raw[:-500]))
    assert refused(short + _png_chunk(b"IEND", b"")).code == "image_damaged"


def _riff_chunks(data):
    pos, chunks = 12, []
    while pos + 8 <= len(data):
        kind, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        chunks.append((kind, data[pos + 8:pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return chunks


def _webp_with_cut(data, name, keep):
    """The WebP with chunk `name` cut to `keep` of its length, chunk and RIFF sizes patched to match."""
    out = bytearray(data[:12])
    for kind, payload in _riff_chunks(data):
        if kind == name:
            payload = payload[:int(len(payload) * keep)]
        out += kind + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) & 1 else b"")
    out[4:8] = struct.pack("<I", len(out) - 8)
    return bytes(out)


@pytest.mark.parametrize("lossless", [False, True])
def test_webp_cut_short_is_refused_even_with_its_sizes_patched(lossless):
    img = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    img.paste(Image.effect_noise((300, 200), 60).convert("RGB"), (50, 50))
    buf = io.BytesIO()
    img.save(buf, "WEBP", lossless=lossless, quality=80)
    data = buf.getvalue()
    kinds = [kind for kind, _ in _riff_chunks(data)]
    assert sanitise(data).width == 400
    for name in [k for k in kinds if k in (b"VP8 ", b"VP8L", b"ALPH")]:
        for keep in (0.3, 0.9, 0.999):
            assert refused(_webp_with_cut(data, name, keep)).code == "image_damaged", (name, keep)
    # merely cut off: it starts like a WebP, so it is damaged rather than of an unknown type
    assert refused(data[:-5]).code == "image_damaged"


def test_multi_picture_jpeg_keeps_its_first_picture_as_a_jpeg():
    frames = [Image.new("RGB", (320, 240), (200, 10, 10)), Image.new("RGB", (320, 240), (10, 10, 200))]
    buf = io.BytesIO()
    frames[0].save(buf, "MPO", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(buf.getvalue())).format == "MPO"
    out = sanitise(buf.getvalue())
    img = reopen(out.data)
    assert out.content_type == "image/jpeg" and img.format == "JPEG" and getattr(img, "n_frames", 1) == 1
    red, _, blue = img.convert("RGB").getpixel((5, 5))
    assert red > 180 and blue < 40


def test_large_jpeg_is_decoded_at_a_dct_scale_and_shrunk_to_the_exact_size():
    data = _noise_jpeg((6000, 1500), quality=80)
    out = sanitise(data, max_side=2560)
    assert (out.width, out.height) == (2560, 640) and reopen(out.data).size == (2560, 640)
    from backend.services.media import jpeg_scale

    assert jpeg_scale(6000, 1500, 2560) == 4 and jpeg_scale(4000, 3000, 2560) == 6 and jpeg_scale(2000, 100, 2560) == 8


def test_jpeg_with_hundreds_of_scans_is_refused_before_decoding():
    """libjpeg passes over the whole image for each scan: thousands of few-byte scans are a CPU bomb."""
    data = _noise_jpeg(progressive=True)
    scans = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xDA]
    last = data[scans[-1]:data.rindex(b"\xff\xd9")]  # a refinement scan, repeatable
    bomb = data[:scans[-1]] + last * 120 + b"\xff\xd9"
    error = refused(bomb)
    assert error.code == "image_damaged" and "scans" in error.details["reason"]


def test_png_text_chunks_cannot_inflate_to_megabytes():
    """Image.open inflates zTXt chunks itself, before any check: 4 MB of text in all is the limit."""
    png = image_bytes("PNG", size=(40, 30))
    bomb_text = _png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"x" * (900 << 10), 9))
    bomb = png[:33] + bomb_text * 6 + png[33:]  # after IHDR: 6 x 900 kB of text, 6 kB on the wire
    assert len(bomb) < 20_000
    assert refused(bomb).code == "image_damaged"
    assert sanitise(png[:33] + bomb_text + png[33:]).width == 40  # one is fine (and dropped)
