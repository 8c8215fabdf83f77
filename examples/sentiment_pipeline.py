"""The seed workflow end to end: ingest a dataset, train a "model" on it, trace the lineage.

Runs on the default store ($ARTIFACTFS_STORE, else the local default folder) with data it
generates itself. Pass a store URL or path as the first argument to use another store.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import artifactfs as afs


def make_raw_reviews(path: Path, n: int = 5_000, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    words = np.array(["great", "awful", "fine", "love", "hate", "meh", "superb", "broken"])
    text = [" ".join(rng.choice(words, size=6)) for _ in range(n)]
    label = rng.integers(0, 2, size=n).astype(float)
    label[rng.random(n) < 0.05] = np.nan  # some missing labels to clean
    pd.DataFrame({"review": text, "label": label}).to_csv(path, index=False)


def main(store: str | None = None) -> None:
    work = Path(tempfile.mkdtemp(prefix="sentiment-"))
    make_raw_reviews(work / "raw_reviews.csv")

    with afs.init(project="sentiment-analysis", job_type="data-ingestion", config={"frac": 0.8}, store=store) as run:
        run.log_code(Path(__file__).parent)  # the code of this run, as a versioned artifact
        data = pd.read_csv(work / "raw_reviews.csv")
        processed = data.dropna().sample(frac=run.config["frac"], random_state=42)
        art = afs.Artifact(
            "processed-dataset",
            type="dataset",
            description="Cleaned and sampled dataset",
            metadata={"rows": len(processed)},
        )
        art.add(afs.Table(dataframe=processed), name="processed_data.table")
        logged = run.log_artifact(art)
        print(f"logged {logged.qualified_name} ({logged.metadata['rows']} rows)")

    with afs.init(project="sentiment-analysis", job_type="training", store=store) as run:
        run.log_code(Path(__file__).parent)
        try:
            ds = run.use_artifact("processed-dataset:latest", type="dataset")
        except afs.errors.ArtifactNotFoundError as e:
            raise SystemExit(f"Could not find artifact: {e}") from None
        df = ds.get_table("processed_data.table").dataframe()
        weights = work / "model_weights.pth"
        positive = df["label"].mean()
        weights.write_bytes(np.array([positive, len(df)], dtype=np.float64).tobytes())
        model = afs.Artifact("sentiment-model", type="model", metadata={"train_rows": len(df)})
        model.add_file(weights)
        model.add_reference(ds)
        logged_model = run.log_artifact(model, aliases=["candidate"])
        print(f"logged {logged_model.qualified_name} aliases={logged_model.aliases}")

    st = run.store
    m = st.artifact("sentiment-analysis/sentiment-model:candidate")
    upstream = ", ".join(a.qualified_name for a in m.references())
    producer = m.logged_by()
    print(f"{m.qualified_name} was made from {upstream} by run {producer.id if producer else '?'}")
    print(m.upstream().to_tree(), end="")
    print(f"store: {st.url}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
