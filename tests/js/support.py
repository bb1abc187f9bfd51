"""Running Node for the tests of the mini-program's JavaScript: a clear failure when it is missing, never a skip."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MINIPROGRAM = REPO / "miniprogram"


def node() -> str:
    """The node executable, or a failed test saying how to get it."""
    path = shutil.which("node")
    if path is None:
        pytest.fail("Node.js is not installed: the mini-program's JavaScript tests need `node` (20 or later) on PATH "
                    "(Debian: apt-get install nodejs npm), then `bash scripts/test.sh` installs its npm packages")
    version = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        pytest.fail(f"Node.js {version} is too old for the mini-program's tests: 20 or later is needed")
    if not (MINIPROGRAM / "node_modules" / "tweetnacl").is_dir():
        pytest.fail("miniprogram/node_modules is missing: run `npm ci --prefix miniprogram` (scripts/test.sh does)")
    return path


def run_js(script: Path, request: dict) -> dict:
    """Run a node script with a JSON request on stdin and return its JSON answer."""
    proc = subprocess.run([node(), str(script)], input=json.dumps(request), capture_output=True, text=True,
                          cwd=REPO, timeout=300)  # fmt: skip
    assert proc.returncode == 0, f"node {script.name} failed:\n{proc.stderr[-5000:]}"
    return json.loads(proc.stdout)
