"""The benchmark suite in its smoke mode (tiny sizes, one round), so that it cannot rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.timeouts import HANG

REPO = Path(__file__).resolve().parents[2]


def test_quick_benchmarks_run_and_report_every_workload(tmp_path: Path) -> None:
    report = tmp_path / "RESULTS.md"
    work = str(tmp_path / "work")
    args = ["--quick", "--cloud", "--history", "--scale", "300,9000", "--workdir", work, "--results", str(report)]
    res = subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    text = report.read_text()
    assert text == res.stdout
    rows = ("| W1 ", "| W2 ", "| W2s ", "| W3 ", "| W4 ", "| W5 ", "| I ", "| L ")
    on_disk = ("| W1s ", "| W3s ", "| W5s ", "| W3c ", "| W3cs ", "| S300 ", "| S9,000 ")
    for row in rows + on_disk:  # W1, W3, W5 in both states, and S
        assert row in text, row
    for backend in ("s3", "gcs", "azure"):
        for op in ("put", "get"):
            assert f"| W6 {backend} small {op} " in text and f"| W6 {backend} big {op} " in text
    for backend in ("local", "s3", "gcs", "azure"):
        for op in ("latest", "v0", "best", "log"):
            assert f"| H1 {backend} {op} " in text, (backend, op)
    for backend in ("s3", "gcs", "azure"):
        assert f"| L40 {backend} use_artifact " in text
    assert "| target | measured | met |" in text and "not measured" not in text
    assert text.startswith("Machine: ")
