"""Local workloads W1-W5, start-up and listing, against baselines and (with --peers) peer tools.

Every figure is a whole process (interpreter start and imports included) except W4, whose
processes time the table write and read themselves, after loading the frame. W5's baseline is
``cp -r`` of the same folder; W3's is artifactfs's own W1 log in the same round.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from . import peers
from .harness import REPO, Measurement, Results, Target, child, fresh, rotate
from .workloads import make_big, make_frame, make_small

HERE = Path(__file__).resolve().parent
PY = sys.executable


@dataclass
class Sizes:
    files: int
    big_mib: int
    rows: int
    versions: int

    @classmethod
    def full(cls) -> Sizes:
        return cls(files=10_000, big_mib=2048, rows=1_000_000, versions=1000)

    @classmethod
    def quick(cls) -> Sizes:
        return cls(files=200, big_mib=8, rows=20_000, versions=20)


def targets(sizes: Sizes) -> list[Target]:
    at_scale = (
        [Target(f"W1 log ≤ 0.5× cp -r at {sizes.files:,} files (warm)", "W1", "artifactfs", "ratio", 0.5)]
        if sizes.files >= 100_000
        else []
    )
    return [
        *at_scale,
        Target("W1 log ≤ 1.0× cp -r (warm)", "W1", "artifactfs", "ratio", 1.0),
        Target("W1s log + sync ≤ 1.0× cp -r + sync", "W1s", "artifactfs", "ratio", 1.0),
        Target("W3c relog ≤ 0.3× cp -r (warm)", "W3c", "artifactfs", "ratio", 0.3),
        Target("W3cs relog + sync ≤ 1.0× cp -r + sync", "W3cs", "artifactfs", "ratio", 1.0),
        Target("W2 log ≤ 1.15× cp", "W2", "artifactfs", "ratio", 1.15),
        Target("W2 log + sync ≤ 1.15× cp + sync", "W2s", "artifactfs", "ratio", 1.15),
        Target("W2 peak memory ≤ 150 MiB", "W2", "artifactfs", "rss_mib", 150),
        Target("W3 relog ≤ 0.15× W1 log (warm)", "W3", "artifactfs", "ratio", 0.15),
        Target("W3s relog ≤ 0.15× W1 log (each + sync)", "W3s", "artifactfs", "ratio", 0.15),
        Target("W4 write + read ≤ 1.5× raw pyarrow", "W4", "artifactfs", "ratio", 1.5),
        Target("W4 stored size ≤ 1.02× raw zstd Parquet", "W4", "artifactfs", "bytes", 1.02),
        Target("W5 cold download ≤ 1.0× cp -r", "W5", "artifactfs (cold cache)", "ratio", 1.0),
        Target("W5 warm download ≤ 0.2× cp -r", "W5", "artifactfs (warm cache)", "ratio", 0.2),
        Target("W5s warm download + sync ≤ 0.3× cp -r + sync", "W5s", "artifactfs (warm cache)", "ratio", 0.3),
        Target("import artifactfs ≤ 0.3 s", "I", "artifactfs", "seconds", 0.3),
        Target(f"artifactfs ls, {sizes.versions:,} versions ≤ 0.5 s", "L", "artifactfs", "seconds", 0.5),
    ]


class Local:
    """The local workloads, one round at a time, in a scratch folder kept between rounds."""

    def __init__(self, work: Path, sizes: Sizes, results: Results, with_peers: bool) -> None:
        self.work, self.sizes, self.res = work, sizes, results
        self.env = {"ARTIFACTFS_CACHE_DIR": str(work / "cache")}
        self.peer_bin = {}
        if with_peers:
            for name in peers.PEERS:
                self.peer_bin[name] = peers.ensure(REPO / ".bench" / "venvs", name)
        self.small = work / "small"
        self.big = work / "big.bin"
        self.frame = work / "frame.parquet"
        self._make_data()

    def _make_data(self) -> None:
        s = self.sizes
        stamp = self.work / f"data-{s.files}-{s.big_mib}-{s.rows}.ok"
        if stamp.exists():
            return
        for p in (self.small, self.big, self.frame):
            fresh(p)
        print("generating data ...", file=sys.stderr)
        make_small(self.small, s.files)
        make_big(self.big, s.big_mib)
        make_frame(self.frame, s.rows)
        stamp.write_text("")

    # ------------------------------------------------------------------ helpers
    def afs(self, *args: str) -> list[str]:
        return [PY, str(HERE / "afs_ops.py"), *args]

    def peer(self, name: str, *args: str) -> list[str]:
        return [str(self.peer_bin[name] / "python"), str(HERE / "peer_ops.py"), *args]

    def dvc(self, repo: Path, script: str) -> Measurement:
        env = {"PATH": f"{self.peer_bin['dvc']}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
        return child(["sh", "-ec", script], env=env, cwd=repo)

    def dvc_repo(self, name: str, data: Path) -> Path:
        """A fresh DVC project with a local remote, holding a copy of ``data`` (all untimed)."""
        repo = fresh(self.work / f"dvc-{name}")
        repo.mkdir()
        env = {"PATH": f"{self.peer_bin['dvc']}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
        remote = fresh(self.work / f"dvc-{name}-remote")
        child(
            [
                "sh",
                "-ec",
                "dvc init -q --no-scm && dvc config core.analytics false && dvc config core.check_update false"
                f" && dvc remote add -q -d r {remote}",
            ],
            env=env,
            cwd=repo,
        )
        if data.is_dir():
            shutil.copytree(data, repo / data.name)
        else:
            shutil.copy(data, repo / data.name)
        return repo

    # ------------------------------------------------------------------ workloads
    def w1_w3_w5(self, r: int) -> None:
        """W1 log the small files, W3 log them again, W5 download them (cold, then warm cache):
        each in the warm state (nothing flushed), then again each followed by sync (W1s...)."""
        for s, on_disk in (("", False), ("s", True)):
            self._w1_w3_w5(r, s, on_disk)

    def _w1_w3_w5(self, r: int, s: str, on_disk: bool) -> None:
        w, res, small = self.work, self.res, self.small
        state = ", each followed by sync" if on_disk else ", warm (nothing flushed)"
        res.workload(f"W1{s}", f"log {self.sizes.files:,} × 4 KiB files{state}", "cp -r")
        res.workload(f"W3{s}", f"log W1 again, unchanged{state}", "artifactfs W1 log")
        res.workload(f"W3c{s}", f"log W1 again, unchanged, against copying{state}", "cp -r")
        res.workload(f"W5{s}", f"download W1 into an empty folder{state}", "cp -r")

        def run(cmd: list[str], env: dict[str, str] | None = None) -> Measurement:
            return child(cmd, env=env, on_disk=on_disk)

        def ours() -> None:
            store = fresh(w / "store")
            fresh(w / "cache")
            first = run(self.afs("log", str(store), str(small)), env=self.env)
            res.add(f"W1{s}", "artifactfs", first)
            res.add(f"W3{s}", "artifactfs W1 log", first)
            again = run(self.afs("log", str(store), str(small)), env=self.env)
            res.add(f"W3{s}", "artifactfs", again)
            res.add(f"W3c{s}", "artifactfs", again)
            fresh(w / "cache")
            cold = run(self.afs("download", str(store), str(fresh(w / "dl-cold"))), env=self.env)
            res.add(f"W5{s}", "artifactfs (cold cache)", cold)
            warm = run(self.afs("download", str(store), str(fresh(w / "dl-warm"))), env=self.env)
            res.add(f"W5{s}", "artifactfs (warm cache)", warm)
            for p in ("store", "cache", "dl-cold", "dl-warm"):
                fresh(w / p)

        def cp() -> None:
            m = run(["cp", "-r", str(small), str(fresh(w / "cp-small"))])
            for key in ("W1", "W3c", "W5"):
                res.add(f"{key}{s}", "cp -r", m)
            fresh(w / "cp-small")

        def copytree() -> None:
            script = f"import shutil; shutil.copytree({str(small)!r}, {str(fresh(w / 'ct-small'))!r})"
            res.add(f"W1{s}", "shutil.copytree", run([PY, "-S", "-c", script]))
            fresh(w / "ct-small")

        steps = [ours, cp, copytree]
        if on_disk:  # peers are measured in the warm state, as a user runs them
            rotate(steps, r)
            return
        if "pins" in self.peer_bin:

            def pins() -> None:
                board = fresh(w / "pins-board")
                res.add("W1", "pins", child(self.peer("pins", "pins-log", str(board), str(small))))
                res.add("W3", "pins", child(self.peer("pins", "pins-log", str(board), str(small))))
                got = child(self.peer("pins", "pins-download", str(board)))
                res.add("W5", "pins (returns board paths, copies nothing)", got)
                fresh(board)

            steps.append(pins)
        if "dvc" in self.peer_bin:

            def dvc() -> None:
                repo = self.dvc_repo("small", small)
                res.add("W1", "dvc add + push", self.dvc(repo, "dvc add -q small && dvc push -q"))
                res.add("W3", "dvc add + push", self.dvc(repo, "dvc add -q small && dvc push -q"))
                shutil.rmtree(repo / "small")
                shutil.rmtree(repo / ".dvc" / "cache")
                res.add("W5", "dvc pull (cold cache)", self.dvc(repo, "dvc pull -q"))
                shutil.rmtree(repo / "small")
                res.add("W5", "dvc checkout (warm cache)", self.dvc(repo, "dvc checkout -q"))
                fresh(repo)
                fresh(w / "dvc-small-remote")

            steps.append(dvc)
        if "wandb" in self.peer_bin:

            def wandb() -> None:
                root = fresh(w / "wandb")
                root.mkdir()
                res.add("W1", "wandb (offline)", child(self.peer("wandb", "wandb-log", str(root), str(small))))
                res.add("W3", "wandb (offline)", child(self.peer("wandb", "wandb-log", str(root), str(small))))
                fresh(root)

            steps.append(wandb)
        rotate(steps, r)

    def w2(self, r: int) -> None:
        """W2: one large file; once to the page cache as cp leaves it, once flushed to disk."""
        w, res, big = self.work, self.res, self.big
        res.workload("W2", f"log one {self.sizes.big_mib:,} MiB file", "cp")
        res.workload("W2s", "W2, then sync (bytes on disk)", "cp + sync")

        def ours() -> None:
            store = fresh(w / "store-big")
            res.add("W2", "artifactfs", child(self.afs("log", str(store), str(big)), env=self.env))
            fresh(store)
            res.add("W2s", "artifactfs", child(self.afs("log", str(store), str(big)), env=self.env, on_disk=True))
            fresh(store)

        def cp() -> None:
            res.add("W2", "cp", child(["cp", str(big), str(fresh(w / "cp-big.bin"))]))
            fresh(w / "cp-big.bin")
            res.add("W2s", "cp + sync", child(["cp", str(big), str(fresh(w / "cp-big.bin"))], on_disk=True))
            fresh(w / "cp-big.bin")

        steps = [ours, cp]
        if "pins" in self.peer_bin:

            def pins() -> None:
                board = fresh(w / "pins-big")
                res.add("W2", "pins", child(self.peer("pins", "pins-log", str(board), str(big))))
                fresh(board)

            steps.append(pins)
        if "dvc" in self.peer_bin:

            def dvc() -> None:
                repo = self.dvc_repo("big", big)
                res.add("W2", "dvc add + push", self.dvc(repo, f"dvc add -q {big.name} && dvc push -q"))
                fresh(repo)
                fresh(w / "dvc-big-remote")

            steps.append(dvc)
        if "wandb" in self.peer_bin:

            def wandb() -> None:
                root = fresh(w / "wandb-big")
                root.mkdir()
                res.add("W2", "wandb (offline)", child(self.peer("wandb", "wandb-log", str(root), str(big))))
                fresh(root)

            steps.append(wandb)
        rotate(steps, r)

    def w4(self, r: int) -> None:
        """W4: a DataFrame logged as a Table and read back, against raw pyarrow zstd Parquet."""
        w, res = self.work, self.res
        res.workload("W4", f"Table of {self.sizes.rows:,} rows × 10 columns, write + read", "raw pyarrow")

        def ours() -> None:
            store = fresh(w / "store-table")
            res.add("W4", "artifactfs", child(self.afs("table", str(store), str(self.frame)), env=self.env))
            fresh(store)

        def raw() -> None:
            out = fresh(w / "raw.parquet")
            res.add("W4", "raw pyarrow", child(self.afs("pyarrow", str(out), str(self.frame))))
            fresh(out)

        steps = [ours, raw]
        if "pins" in self.peer_bin:

            def pins() -> None:
                board = fresh(w / "pins-table")
                res.add("W4", "pins (parquet)", child(self.peer("pins", "pins-table", str(board), str(self.frame))))
                fresh(board)

            steps.append(pins)
        rotate(steps, r)

    def startup(self, r: int) -> None:
        """Interpreter start + ``import artifactfs``, and ``artifactfs ls`` on many versions."""
        res = self.res
        res.workload("I", "python -c 'import artifactfs'", "python -c pass")
        res.workload("L", f"artifactfs ls bench/data, {self.sizes.versions:,} versions", "python -c pass")
        store = self._many_versions()
        cli = str(Path(PY).parent / "artifactfs")

        def bare() -> None:
            m = child([PY, "-c", "pass"])
            res.add("I", "python -c pass", m)
            res.add("L", "python -c pass", m)

        rotate(
            [
                bare,
                lambda: res.add("I", "artifactfs", child([PY, "-c", "import artifactfs"])),
                lambda: res.add("L", "artifactfs", child([cli, "--store", str(store), "ls", "bench/data"])),
            ],
            r,
        )

    def _many_versions(self) -> Path:
        store = self.work / f"store-{self.sizes.versions}-versions"
        if (store / ".complete").exists():
            return store
        fresh(store)
        print(f"logging {self.sizes.versions:,} versions for the listing benchmark ...", file=sys.stderr)
        import artifactfs as afs

        s = afs.open_store(str(store))
        with afs.init(project="bench", job_type="bench", store=s) as run:
            for i in range(self.sizes.versions):
                art = afs.Artifact("data", type="dataset")
                with art.new_file("n.txt") as f:
                    f.write(str(i))
                run.log_artifact(art)
        (store / ".complete").write_text("")
        return store
