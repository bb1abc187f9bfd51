"""Reading an uploaded table — the committee's owner registry, the hotline's work orders — the way
Chinese offices export them: .xlsx (the first sheet) or .csv in UTF-8 or GBK. 422 with a Chinese
reason for anything else."""
import csv
import io

from openpyxl import load_workbook

from backend.errors import Invalid


def read_table(filename, data, xlsx_cell=lambda value: value):
    """The rows of the upload as lists: an .xlsx sheet's cells through `xlsx_cell` (openpyxl's values:
    numbers, dates, text, None), a .csv's as text."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
            return [[xlsx_cell(c) for c in row] for row in sheet.iter_rows(values_only=True)]
        except Exception:
            raise Invalid({"file": ["无法读取该 Excel 文件"]}, code="unreadable_file")
    if name.endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):  # Excel in China often saves CSV as GBK
            try:
                return list(csv.reader(io.StringIO(data.decode(encoding))))
            except UnicodeDecodeError:
                continue
        raise Invalid({"file": ["CSV 文件编码无法识别（请使用 UTF-8 或 GBK）"]}, code="unreadable_file")
    raise Invalid({"file": ["只接受 .csv 或 .xlsx 文件"]}, code="unsupported_file_type")
