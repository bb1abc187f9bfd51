"""The image/PDF pipeline as pure functions: what is kept, what is removed, what is refused."""
import io

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
