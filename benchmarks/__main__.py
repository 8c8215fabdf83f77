"""Run the benchmark suite and print a markdown table.

    python -m benchmarks                   W1-W5, start-up and listing, 5 rounds, full sizes
    python -m benchmarks --peers           ... and pins, DVC and wandb (installed into .bench/venvs)
    python -m benchmarks --cloud           ... and W6 against the S3, GCS and Azure emulators
    python -m benchmarks --history         ... and H1 and L40 (history at scale, behind a 40 ms proxy)
    python -m benchmarks --search          ... and Q (search among 10,000 versions) on --backends
    python -m benchmarks --scale 10000,100000,1000000   ... and S: versions of that many files
    python -m benchmarks --only '' --drafts 100000   ... and D: 1,000 files added to a version of that many
    python -m benchmarks --files 100000    W1, W3, W5 with that many files (default 10,000)
    python -m benchmarks --quick           tiny sizes, one round: checks that the suite still runs
    python -m benchmarks --results benchmarks/RESULTS.md    also write the report there

Workloads (generated deterministically under --workdir, nothing is downloaded):
  W1  log 10,000 files of 4 KiB in 100 folders to a local store       vs  cp -r, shutil.copytree
  W2  log one 2 GiB file to a local store                             vs  cp
  W3  log W1 again, unchanged                                         vs  the W1 log (W3c: vs cp -r)
  W4  a 1,000,000 × 10 DataFrame as a Table, written and read back    vs  raw pyarrow zstd Parquet
  W5  download W1 into an empty folder, cold then warm cache          vs  cp -r
  W6  W1 and one 1 GiB file against each cloud emulator               vs  fsspec put / get
  S   10,000 to 1,000,000 files of 64 B: log, re-log, open, one file,
      downloads; manifest bytes and peak memory                       vs  cp -r
  D   1,000 files added to a version of 100,000 (or 1,000,000):       vs  a full re-log (warm, cold)
      new_draft; time, keys asked, bytes stored, shards shared
  H1  resolve and commit at 10 and 10,000 versions, each backend      requests and rounds per call
  L40 the example pipeline and every browser query, 40 ms per request time per call
  Q   a metadata query among 10,000 versions in 100 artifacts, each    search before and after
      backend                                                         compaction vs every manifest
  I   python -c "import artifactfs"                                   vs  python -c pass
  L   artifactfs ls on a name with 1,000 versions                     vs  python -c pass

Contenders run alternately, in an order that rotates every round; the table gives each one's
median time and the median and min-max of its per-round ratio to the baseline. W1, W2, W3
and W5 are measured in two states: warm (nothing flushed between the data being written and
the run, as a user runs it) and on disk (W1s, W2s, ...: each contender followed by sync,
timed, after the earlier runs' dirty pages were written back).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

from . import cloud, history, incremental, scale, search, suite
from .harness import Results, machine


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="tiny sizes and one round (a smoke test)")
    ap.add_argument("--rounds", type=int, help="rounds per workload (default 5; 1 with --quick)")
    ap.add_argument(
        "--only", help="comma-separated local workloads among W1,W2,W4,W5,I (W3 and W5 come with W1); '' for none"
    )
    ap.add_argument("--peers", action="store_true", help="also measure pins, DVC and wandb (installs them)")
    ap.add_argument("--cloud", action="store_true", help="also run W6 against the cloud emulators")
    ap.add_argument("--cloud-rounds", type=int, help="rounds for W6 (default 2; 1 with --quick)")
    ap.add_argument("--cloud-big-mib", type=int, help="size of W6's large file (default 1024)")
    ap.add_argument("--backends", default="s3,gcs,azure", help="emulators for W6 (default s3,gcs,azure)")
    ap.add_argument("--cloud-workloads", default="small,big", help="W6 workloads (default small,big)")
    ap.add_argument(
        "--history", action="store_true", help="also run H1 and L40 (history at scale; 40 ms latency) on --backends"
    )
    ap.add_argument("--search", action="store_true", help="also run Q (search among 10,000 versions) on --backends")
    ap.add_argument("--search-ways", default="scan,uncompacted,compacted", help="Q's contenders (default: all three)")
    ap.add_argument("--files", type=int, help="files of W1, W3 and W5 (default 10,000)")
    ap.add_argument("--scale", help="comma-separated file counts for S (e.g. 10000,100000,1000000)")
    ap.add_argument("--drafts", help="comma-separated version sizes for D (1,000 files added by new_draft)")
    ap.add_argument("--scale-rounds", type=int, help="rounds for S (default 3; 1 with --quick)")
    ap.add_argument("--workdir", type=Path, help="scratch folder, kept for reuse (default: a new temp folder)")
    ap.add_argument("--results", type=Path, help="also write the report to this markdown file")
    args = ap.parse_args(argv)

    sizes = suite.Sizes.quick() if args.quick else suite.Sizes.full()
    if args.files:
        sizes.files = args.files
    rounds = args.rounds or (1 if args.quick else 5)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="afs-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    only = set(args.only.upper().split(",")) if args.only is not None else {"W1", "W2", "W4", "I"}
    backends = [b for b in args.backends.split(",") if b]

    results = Results()
    local = suite.Local(work, sizes, results, with_peers=args.peers)
    jobs = {"W1": local.w1_w3_w5, "W5": local.w1_w3_w5, "W2": local.w2, "W4": local.w4, "I": local.startup}
    for r in range(rounds):
        done = set()
        for key in ("W1", "W5", "W2", "W4", "I"):
            if key in only and jobs[key] not in done:
                jobs[key](r)
                done.add(jobs[key])
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    targets = suite.targets(sizes)
    if args.cloud:
        cloud.run(
            results,
            work,
            files=sizes.files,
            big_mib=args.cloud_big_mib or (8 if args.quick else 1024),
            rounds=args.cloud_rounds or (1 if args.quick else 2),
            backends=backends,
            workloads=tuple(args.cloud_workloads.split(",")),
        )
        targets += cloud.targets(backends)
    if args.scale:
        counts = [int(n) for n in args.scale.split(",") if n]
        targets += scale.run(results, work, counts, args.scale_rounds or (1 if args.quick else 3))
    if args.drafts:
        counts = [int(n) for n in args.drafts.split(",") if n]
        targets += incremental.run(results, work, counts, args.scale_rounds or (1 if args.quick else 3))
    if args.history:
        if args.quick:
            history.SIZES = {"10 versions": (10, 10, 2), "300 versions": (300, 60, 10)}
        history.run(results, work, backends)
        targets += history.targets(backends, big=list(history.SIZES)[-1])

    if args.search:
        sizes_q = (10, 10) if args.quick else (search.ARTIFACTS, search.PER)
        search.run(results, work, backends, *sizes_q, ways=tuple(args.search_ways.split(",")))
        targets += search.targets(backends)

    report = "\n".join(
        [
            f"Machine: {machine()}",
            f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {rounds} rounds"
            + (" (quick sizes)" if args.quick else ""),
            "",
            results.markdown(targets),
        ]
    )
    print(report)
    if args.results:
        args.results.write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
