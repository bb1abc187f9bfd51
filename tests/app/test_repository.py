"""The repository stands on its own: what a fresh clone's two commands need is in it, and what the
README promises is what the commands do (issue 17)."""
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST_TOOLS = ("pytest", "pytest-xdist", "hypothesis", "schemathesis", "moto")


def _requirements(name):
    lines = [line.strip() for line in (ROOT / name).read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_runtime_and_test_requirements_are_split_and_pinned():
    runtime = _requirements("requirements.txt")
    dev = _requirements("requirements-dev.txt")
    assert dev[0] == "-r requirements.txt"
    for line in runtime + dev[1:]:
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", line), f"not pinned with ==: {line}"
    names = {re.split(r"[\[=]", line)[0].lower() for line in runtime}
    assert not names & set(TEST_TOOLS), "serve.sh would install test tools"
    assert set(TEST_TOOLS) <= {re.split(r"[\[=]", line)[0].lower() for line in dev[1:]}
    assert "requirements-dev.txt" in (ROOT / "scripts/test.sh").read_text()
    assert "requirements-dev.txt" not in (ROOT / "scripts/serve.sh").read_text()


def test_nothing_reads_the_design_folder_beside_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    pattern = re.compile(r"\.\./shared|parent\s*/\s*[\"']shared[\"']|[\"']\.\.[\"'],\s*[\"']shared[\"']")
    offenders = [name for name in tracked if name.endswith((".py", ".sh", ".js", ".json", ".cfg", ".ini", ".toml"))
                 and (ROOT / name).is_file() and pattern.search((ROOT / name).read_text(errors="replace"))]
    assert offenders == []
    assert (ROOT / "tests/vectors/merkle/LICENSE-Apache-2.0").is_file()


def test_the_demo_prints_what_the_readme_shows(app, client):
    printed = app.test_cli_runner().invoke(args=["demo"]).output
    readme = (ROOT / "README.md").read_text()
    block = readme.split("It ends by printing the development logins", 1)[1].split("```")[1].strip().splitlines()
    assert block and all(line in printed.splitlines() for line in block), printed
    assert "/api/v1/docs" in printed and "/api/v1/openapi.json" in printed


def test_migrating_prints_one_line_per_migration(tmp_path):
    import os
    import sys

    env = {**os.environ, "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/fresh.db",
           "WECHAT_DEV_FAKE": "0", "WECHAT_API_BASE": "http://127.0.0.1:9/"}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade", "heads"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = (done.stdout + done.stderr).strip().splitlines()
    migrations = list((ROOT / "migrations/versions").glob("*.py"))
    assert len(lines) == len(migrations) and all("Running upgrade" in line for line in lines), lines


def test_nothing_cites_a_handbook_the_repository_does_not_hold():
    """Citations point at files in the repository (docs/…), never at the design brief's § numbers."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    citing = [name for name in tracked if name != "tests/app/test_repository.py" and (ROOT / name).is_file()
              and name.endswith((".py", ".md", ".sh", ".js"))
              and "handbook" in (ROOT / name).read_text(errors="replace").lower()]
    assert citing == []
