"""Registry import of a 5,000-part XLSX (with co-owners) against the bare openpyxl read of the same file.

Prints both times and the ratio. Runs on a temporary SQLite database (or DATABASE_URL).
Usage: .venv/bin/python bench/registry_bench.py
"""
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook, load_workbook  # noqa: E402

PARTS = 5000


def build_xlsx():
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(["building", "unit", "room", "area_m2", "owner_name", "owner_phone", "owner_id_number", "owner_kind"])
    for i in range(PARTS):
        building, unit, room = str(i // 200 + 1), str(i // 100 % 2 + 1), str(1000 + i % 100)
        ws.append([building, unit, room, "88.88", f"业主{i}", f"139{i:08d}", "", "person"])
        if i % 5 == 0:  # every fifth flat has a co-owner
            ws.append([building, unit, room, "88.88", f"共有人{i}", f"137{i:08d}", "", "person"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def main():
    tmp = tempfile.mkdtemp(prefix="linli-bench-")
    os.environ.setdefault("INSTANCE_PATH", tmp)
    from backend import create_app
    from backend.extensions import db
    from backend.models import Community
    from backend.services import identity, registry

    data = build_xlsx()
    t0 = time.perf_counter()
    rows = list(load_workbook(io.BytesIO(data), read_only=True).worksheets[0].iter_rows(values_only=True))
    bare = time.perf_counter() - t0

    app = create_app({"INSTANCE_PATH": tmp, "WECHAT_DEV_FAKE": False,
                      "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
        admin = identity.make_platform_admin("bench-admin")
        community = Community(name="bench", district="d", address="a")
        db.session.add(community)
        db.session.commit()
        t0 = time.perf_counter()
        report = registry.import_registry(admin, community.id, "bench.xlsx", data)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = registry.import_registry(admin, community.id, "bench.xlsx", data)
        second = time.perf_counter() - t0
    print(f"rows in file:                 {len(rows) - 1} ({report['parts']} parts, {report['owners']} owners)")
    print(f"bare openpyxl read:           {bare:.2f} s")
    print(f"first import (all added):     {first:.2f} s   ratio {first / bare:.1f}x the bare read")
    print(f"re-import (nothing changed):  {second:.2f} s   ratio {second / bare:.1f}x  report {again['added']}/{again['changed']}/{again['removed']}")


if __name__ == "__main__":
    main()
