"""The PDF inspection of the media pipeline, run in a child process with hard resource limits.

A PDF is parsed by qpdf (pikepdf) and every object is walked — objects inside compressed object
streams included, names decoded (`/J#61vaScript` is `/JavaScript`) — looking for active content.
The parse happens in a child process (`python -I media_pdf.py`, bytes on stdin, one JSON verdict on
stdout) because qpdf's memory is not bounded by the file size: a 16 kB PDF whose object stream
inflates to 16 MB of `0 0 0 …` costs qpdf 1.2 GB, a 10 MB uncompressed one about 760 MB. The child
sets RLIMIT_AS and RLIMIT_CPU on itself before reading a byte, so such a file costs it its life
and the upload a refusal, never the worker its memory. docs/media.md "PDFs" has the rules.

This module imports nothing from the app (it runs as a script); pikepdf is imported only there.
"""
import json
import resource
import sys

# Action types a document may contain (clicked by the reader, never run on their own); every other
# (/JavaScript, /Launch, /SubmitForm, /ImportData, /ResetForm, /GoToR, /GoToE, /Rendition, /Movie,
# /Sound, /Hide, /SetOCGState, /Trans, /Thread, /GoTo3DView, /RichMediaExecute…) is refused.
ALLOWED_ACTIONS = {"/GoTo", "/URI", "/Named"}
ALLOWED_NAMED = {"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"}
URI_SCHEMES = ("http://", "https://", "mailto:")
# A dictionary holding one of these keys is refused, whatever else it holds.
FORBIDDEN_KEYS = {
    "/JS": "JavaScript", "/JavaScript": "JavaScript",
    "/AA": "automatic actions (/AA)",
    "/EmbeddedFiles": "embedded files", "/EF": "embedded files",
    "/XFA": "XFA form", "/NeedsRendering": "XFA form",
    "/RichMediaContent": "rich media", "/RichMediaSettings": "rich media",
}
FORBIDDEN_TYPES = {"/EmbeddedFile": "embedded files", "/3D": "3D content"}
FORBIDDEN_SUBTYPES = {
    "/FileAttachment": "embedded files", "/RichMedia": "rich media", "/Screen": "multimedia",
    "/Movie": "multimedia", "/Sound": "multimedia", "/3D": "3D content", "/U3D": "3D content",
    "/PRC": "3D content",
}


class Verdict(Exception):
    """Why the document is refused: code (the media refusal code) and what was found."""

    def __init__(self, code, found):
        super().__init__(found)
        self.code, self.found = code, found


def _name(value):
    """A decoded name ("/JavaScript") or None for anything that is not a name."""
    import pikepdf

    return str(value) if isinstance(value, pikepdf.Name) else None


def _check_action(action, automatic, seen):
    """One action dictionary and the chain of /Next actions after it."""
    import pikepdf

    key = action.objgen if action.is_indirect else id(action)
    if key in seen:
        return
    seen.add(key)
    kind = _name(action.get("/S"))
    if kind not in ALLOWED_ACTIONS:
        raise Verdict("document_active_content", f"action {kind or '(none)'}")
    if automatic and kind != "/GoTo":
        raise Verdict("document_active_content", f"action {kind} run when the document opens")
    if kind == "/URI":
        target = action.get("/URI")
        if not isinstance(target, pikepdf.String) or not str(target).strip().lower().startswith(URI_SCHEMES):
            raise Verdict("document_active_content", "link to something other than a web page or e-mail address")
    if kind == "/Named" and _name(action.get("/N")) not in ALLOWED_NAMED:
        raise Verdict("document_active_content", f"named action {_name(action.get('/N'))}")
    following = action.get("/Next")
    for nxt in (following if isinstance(following, pikepdf.Array) else [following]):
        if isinstance(nxt, pikepdf.Dictionary):
            _check_action(nxt, automatic, seen)


def _check_dictionary(obj, seen_actions):
    """The rules for one dictionary (a stream's dictionary included)."""
    import pikepdf

    keys = set(obj.keys())
    for key in keys & FORBIDDEN_KEYS.keys():
        raise Verdict("document_active_content", FORBIDDEN_KEYS[key])
    kind, subtype = _name(obj.get("/Type")), _name(obj.get("/Subtype"))
    if kind in FORBIDDEN_TYPES:
        raise Verdict("document_active_content", FORBIDDEN_TYPES[kind])
    if subtype in FORBIDDEN_SUBTYPES:
        raise Verdict("document_active_content", FORBIDDEN_SUBTYPES[subtype])
    if kind == "/Action":
        _check_action(obj, False, seen_actions)
    for key in ("/A", "/Next"):
        if key in keys:
            value = obj.get(key)
            for action in (value if isinstance(value, pikepdf.Array) else [value]):
                if isinstance(action, pikepdf.Dictionary):
                    _check_action(action, False, seen_actions)
    if "/OpenAction" in keys:
        value = obj.get("/OpenAction")
        if isinstance(value, pikepdf.Dictionary):  # an array is a destination: open at a page
            _check_action(value, True, set())


def _walk(root, seen_actions):
    """Every dictionary and array directly inside `root` (indirect ones are walked on their own)."""
    import pikepdf

    stack = [root]
    while stack:
        obj = stack.pop()
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict  # the data is never run: only the dictionary matters
        if isinstance(obj, pikepdf.Dictionary):
            _check_dictionary(obj, seen_actions)
            children = [obj.get(key) for key in obj.keys()]
        elif isinstance(obj, pikepdf.Array):
            children = iter(obj)
        else:
            continue
        for child in children:
            if isinstance(child, (pikepdf.Dictionary, pikepdf.Array)) and not child.is_indirect:
                stack.append(child)


def inspect(data):
    """Parse `data` as a PDF and walk every object. Returns None for an acceptable document, else
    raises Verdict. Runs in the child process (or in tests); may raise MemoryError."""
    import io

    import pikepdf

    try:
        pdf = pikepdf.open(io.BytesIO(data), attempt_recovery=False, inherit_page_attributes=False,
                           suppress_warnings=True)
    except pikepdf.PasswordError:
        raise Verdict("document_encrypted", "password") from None
    except pikepdf.PdfError as exc:
        raise Verdict("document_damaged", str(exc)[:200]) from None
    with pdf:
        if pdf.is_encrypted:
            raise Verdict("document_encrypted", "encrypted")
        seen_actions = set()
        # every object the cross-reference table lists, those inside object streams too
        for (number, generation), entry in sorted(pdf.get_xref_table().items()):
            if entry.type == 0:
                continue
            obj = pdf.get_object(number, generation)
            if obj is None or (isinstance(obj, pikepdf.Object) and obj._type_code == pikepdf.ObjectType.null):
                # an object qpdf could not read is an object another reader may read differently
                _refuse_for_warnings(pdf)
                raise Verdict("document_damaged", f"object {number} {generation} unreadable")
            _walk(obj, seen_actions)
        _walk(pdf.trailer, seen_actions)
        root = pdf.Root
        pages = root.get("/Pages")
        # (the page tree is not walked through pdf.pages: qpdf would repair harmless omissions, such
        # as a page without /Resources, and report them as warnings)
        if _name(root.get("/Type")) != "/Catalog" or not isinstance(pages, pikepdf.Dictionary) \
                or not isinstance(pages.get("/Kids"), pikepdf.Array) or len(pages.get("/Kids")) < 1:
            raise Verdict("document_damaged", "no document catalog with pages")
        _refuse_for_warnings(pdf)


def _refuse_for_warnings(pdf):
    """qpdf had to guess (a damaged object, a stream it could not decode…): what it guessed is not
    necessarily what a PDF reader will show or run, so such a file is not vouched for. qpdf reports
    running out of memory (the child's limit) as a warning about the object it was reading."""
    warnings = [str(w) for w in pdf.get_warnings()]
    if any("bad_alloc" in w or "memory limit" in w for w in warnings):
        raise Verdict("document_too_complex", "memory limit")
    if warnings:
        raise Verdict("document_damaged", warnings[0][:200])


def main(argv):
    """Child entry point: `media_pdf.py MEMORY_BYTES CPU_SECONDS`, the PDF on stdin."""
    memory, cpu = int(argv[1]), int(argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    import pikepdf  # noqa: F401 — inside the limits; failing here is an exit code, not a verdict

    data = sys.stdin.buffer.read()
    try:
        inspect(data)
        verdict = {"ok": True}
    except Verdict as exc:
        verdict = {"ok": False, "code": exc.code, "found": exc.found}
    except MemoryError:
        verdict = {"ok": False, "code": "document_too_complex", "found": "memory limit"}
    except RecursionError:
        verdict = {"ok": False, "code": "document_too_complex", "found": "nesting"}
    except Exception as exc:  # noqa: BLE001 — any other failure of the parser on hostile input is a refusal
        verdict = {"ok": False, "code": "document_damaged", "found": f"{type(exc).__name__}: {exc}"[:200]}
    sys.stdout.write(json.dumps(verdict) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
