"""The console's own logic (console/test/*.test.js, Vitest) as part of the pytest run, on both databases in CI."""
import json
import subprocess

from tests.console.support import CONSOLE


def test_vitest_unit_tests_pass(console_dist, tmp_path):
    report = tmp_path / "vitest.json"
    proc = subprocess.run([str(CONSOLE / "node_modules" / ".bin" / "vitest"), "run", "--reporter=json",
                           f"--outputFile={report}"], cwd=CONSOLE, capture_output=True, text=True, timeout=600)
    assert report.is_file(), f"vitest wrote no report (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    result = json.loads(report.read_text())
    failures = [(t["fullName"], t["failureMessages"]) for f in result["testResults"] for t in f["assertionResults"]
                if t["status"] != "passed"]
    assert proc.returncode == 0 and failures == [], (failures, proc.stderr[-3000:])
    assert result["numPassedTests"] >= 20 and len(result["testResults"]) >= 4
