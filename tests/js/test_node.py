"""The mini-program's node tests (miniprogram/test/*.test.js: the protocol library, the ES2017 guard, the request
wrapper, the pages under miniprogram-simulate) as part of the pytest run, on both databases in CI."""

import re
import subprocess

from .support import MINIPROGRAM, node


def test_node_tests_pass():
    files = sorted(p.relative_to(MINIPROGRAM).as_posix() for p in (MINIPROGRAM / "test").glob("*.test.js"))
    assert len(files) >= 10, files
    for must in ("test/guard.test.js", "test/request.test.js", "test/pages-votes.test.js", "test/pages-residents.test.js"):
        assert must in files, must
    proc = subprocess.run([node(), "--test", *files], cwd=MINIPROGRAM, capture_output=True, text=True, timeout=900)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"node --test failed (exit {proc.returncode}):\n{output[-30000:]}"
    tests = re.search(r"^# tests (\d+)$", proc.stdout, re.M)
    failed = re.search(r"^# fail (\d+)$", proc.stdout, re.M)
    assert tests and int(tests.group(1)) >= 80, output[-3000:]
    assert failed and failed.group(1) == "0", output[-3000:]
