"""Measuring and reporting: whole-process timings, alternating rounds, ratio tables, targets.

The machine is noisy, so no number stands alone: every contender of a workload runs once per
round, in an order that rotates from round to round, and the report gives for each the median
and min-max over rounds of its ratio to the workload's baseline *in the same round*.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Measurement:
    """One timed run: wall seconds, peak resident memory of the measured process, extras."""

    seconds: float
    rss_kib: int = 0
    extra: dict[str, float] = field(default_factory=dict)


_LAUNCHER = """
import os, sys, time
t = time.perf_counter()
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
dt = time.perf_counter() - t
with open(sys.argv[1], "w") as f:
    f.write(f"{os.waitstatus_to_exitcode(status)} {dt} {usage.ru_maxrss}")
"""


def child(
    cmd: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None, on_disk: bool = False
) -> Measurement:
    """Run one process to completion: its wall time and its own peak RSS (through wait4).

    Two states, as a user meets them. Warm (the default): nothing is flushed, so the data just
    written is in the page cache, and the previous run's writeback may still be going on.
    ``on_disk``: dirty pages are written back first (untimed), then the command runs followed
    by ``sync``, timed together: what it costs to have the bytes on disk. A child may report
    figures of its own as ``key=value`` lines on stdout; a reported ``seconds`` replaces the
    wall time (for operations timed inside the process).
    """
    if on_disk:
        os.sync()
        cmd = ["sh", "-ec", '"$@"; sync', "sh", *cmd]
    with tempfile.TemporaryDirectory() as tmp, open(f"{tmp}/out", "w+b") as out_f, open(f"{tmp}/err", "w+b") as err_f:
        # Started through a small launcher: a child forked from this (large) process would
        # report this process's memory as its own peak.
        subprocess.run(
            [sys.executable, "-S", "-c", _LAUNCHER, f"{tmp}/figures", *cmd],
            env={**os.environ, **(env or {})},
            cwd=cwd,
            stdout=out_f,
            stderr=err_f,
            check=False,
        )
        out_f.seek(0)
        err_f.seek(0)
        out, err = out_f.read(), err_f.read()
        try:
            code, dt, maxrss = Path(f"{tmp}/figures").read_text().split()
        except (OSError, ValueError):
            code, dt, maxrss = "-1", "0", "0"
    if code != "0":
        raise RuntimeError(f"benchmark command failed ({code}): {' '.join(cmd)}\n{err.decode()[-3000:]}")
    m = Measurement(float(dt), int(maxrss))
    for line in out.decode().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.isidentifier():
            with contextlib.suppress(ValueError):
                m.extra[key] = float(value)
    # A child that times its own operation (excluding start-up and data loading) reports it.
    m.seconds = m.extra.pop("seconds", m.seconds)
    return m


def fresh(path: Path) -> Path:
    """``path``, removed if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    return path


def rotate(items: Sequence[Callable[[], None]], round_: int) -> None:
    """Call ``items`` starting at a different one each round."""
    k = round_ % len(items) if items else 0
    for fn in [*items[k:], *items[:k]]:
        fn()


@dataclass
class Target:
    """A goal from the issue: ``metric`` of ``tool`` in ``workload`` at most ``limit``.

    metric: "ratio" (median ratio to the baseline), "seconds" (median), "rss_mib" (maximum), or
    the name of an extra figure, compared as the median ratio of that figure to the baseline's.
    """

    text: str
    workload: str
    tool: str
    metric: str
    limit: float


class Results:
    """Measurements by workload and contender, rendered as markdown."""

    def __init__(self) -> None:
        self.samples: dict[str, dict[str, list[Measurement]]] = defaultdict(lambda: defaultdict(list))
        self.baseline: dict[str, str] = {}
        self.titles: dict[str, str] = {}
        self.notes: list[str] = []

    def workload(self, key: str, title: str, baseline: str) -> None:
        self.titles.setdefault(key, title)
        self.baseline.setdefault(key, baseline)

    def add(self, key: str, tool: str, m: Measurement) -> None:
        self.samples[key][tool].append(m)
        print(f"  {key:4} {tool:28} {m.seconds:8.3f} s  {m.rss_kib / 1024:6.0f} MiB  {m.extra or ''}", file=sys.stderr)

    def ratios(self, key: str, tool: str, figure: str = "seconds") -> list[float]:
        base = self.samples[key][self.baseline[key]]
        mine = self.samples[key][tool]

        def value(m: Measurement) -> float:
            return m.seconds if figure == "seconds" else m.extra[figure]

        return [value(a) / value(b) for a, b in zip(mine, base, strict=False) if value(b) > 0]

    def value(self, target: Target) -> float | None:
        ms = self.samples.get(target.workload, {}).get(target.tool)
        if not ms:
            return None
        if target.metric == "seconds":
            return statistics.median(m.seconds for m in ms)
        if target.metric == "rss_mib":
            return max(m.rss_kib for m in ms) / 1024
        if target.metric.startswith("abs:"):  # a figure of its own, not a ratio
            return statistics.median(m.extra[target.metric[4:]] for m in ms)
        rs = self.ratios(target.workload, target.tool, "seconds" if target.metric == "ratio" else target.metric)
        return statistics.median(rs) if rs else None

    def markdown(self, targets: Sequence[Target]) -> str:
        lines = [
            "| workload | tool | median s | ratio to baseline: median (min–max) | peak RSS | other figures (median) "
            "| rounds |",
            "|---|---|---:|---|---:|---|---:|",
        ]
        for key, tools in self.samples.items():
            base = self.baseline[key]
            first = True
            for tool in sorted(tools, key=lambda t: (t != base, t != "artifactfs", t)):
                ms = tools[tool]
                med = statistics.median(m.seconds for m in ms)
                if tool == base:
                    ratio = "baseline"
                else:
                    rs = self.ratios(key, tool)
                    ratio = f"{statistics.median(rs):.2f} ({min(rs):.2f}–{max(rs):.2f})" if rs else "–"
                rss = max(m.rss_kib for m in ms) / 1024
                label = f"{key} {self.titles[key]}" if first else ""
                first = False
                other = "; ".join(
                    f"{k} {_figure(statistics.median(m.extra[k] for m in ms if k in m.extra))}"
                    for k in sorted({k for m in ms for k in m.extra})
                )
                shown_rss = f"{rss:.0f} MiB" if rss else "–"
                lines.append(f"| {label} | {tool} | {med:.3f} | {ratio} | {shown_rss} | {other} | {len(ms)} |")
        targets = [t for t in targets if t.workload in self.samples]  # of the workloads run
        if targets:
            lines += ["", "| target | measured | met |", "|---|---:|:---:|"]
            for t in targets:
                v = self.value(t)
                shown = "not measured" if v is None else f"{v:.2f}"
                met = "–" if v is None else ("yes" if v <= t.limit else "**no**")
                lines.append(f"| {t.text} | {shown} | {met} |")
        if self.notes:
            lines += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines)


def _figure(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 or v == int(v) else f"{v:.3f}"


def machine() -> str:
    """One line naming the machine, the Python and the commit the numbers come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"], capture_output=True, text=True).stdout
        commit += " (with uncommitted changes)" if dirty.strip() else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; commit {commit}"
    )
