from __future__ import annotations

import pytest

from artifactfs.errors import InvalidNameError, InvalidReferenceError
from artifactfs.refs import StorePath, check_alias, check_entry_path, check_name, parse_ref, parse_store_path


@pytest.mark.parametrize(
    ("text", "project", "name", "tag", "version"),
    [
        ("ds", None, "ds", "latest", None),
        ("ds:latest", None, "ds", "latest", None),
        ("ds:v0", None, "ds", "v0", 0),
        ("ds:v12", None, "ds", "v12", 12),
        ("proj/ds:best", "proj", "ds", "best", None),
        ("proj/my.data_set-2:validated", "proj", "my.data_set-2", "validated", None),
    ],
)
def test_parse_ref(text: str, project: str | None, name: str, tag: str, version: int | None) -> None:
    ref = parse_ref(text)
    assert (ref.project, ref.name, ref.tag, ref.version) == (project, name, tag, version)


def test_default_project_fills_in() -> None:
    assert parse_ref("ds:v1", default_project="p").project == "p"
    assert str(parse_ref("ds:v1", default_project="p")) == "p/ds:v1"


@pytest.mark.parametrize(
    "text",
    ["", "ds:", "ds:vX", "ds:v1a", "ds:v01", ":v1", "a/b/c:v1", "../x:v1", "ds:a:b", "ds x:v1", "ds:\x00", 3, None],
)
def test_malformed_refs(text: object) -> None:
    with pytest.raises(InvalidReferenceError):
        parse_ref(text)


@pytest.mark.parametrize("name", ["", "../x", "a/b", "a:b", "x\n", "..", ".hidden", "a b", "x" * 129, None, 5])
def test_bad_names(name: object) -> None:
    with pytest.raises(InvalidNameError):
        check_name(name)


@pytest.mark.parametrize("alias", ["latest", "v3", "vX", "v_", "v", "a/b", ""])
def test_bad_aliases(alias: str) -> None:
    with pytest.raises(InvalidNameError):
        check_alias(alias)


@pytest.mark.parametrize("alias", ["best", "production", "validated", "Candidate-2"])
def test_good_aliases(alias: str) -> None:
    assert check_alias(alias) == alias


@pytest.mark.parametrize("path", ["", "/abs", "a//b", "a/../b", "./a", "a\\b", "a\x01", "a/"])
def test_bad_entry_paths(path: str) -> None:
    with pytest.raises(InvalidNameError):
        check_entry_path(path)


def test_good_entry_path() -> None:
    assert check_entry_path("dir/sub/file name.txt") == "dir/sub/file name.txt"


@pytest.mark.parametrize(
    ("path", "parsed"),
    [
        ("", StorePath()),
        ("p", StorePath("p")),
        ("p/ds", StorePath("p", "ds")),
        ("p/ds:latest", StorePath("p", "ds", "latest")),
        ("p/ds:v3/data/train.csv", StorePath("p", "ds", "v3", "data/train.csv")),
        ("registry/clf:production/model.pt", StorePath("registry", "clf", "production", "model.pt")),
    ],
)
def test_parse_store_path(path: str, parsed: StorePath) -> None:
    assert parse_store_path(path) == parsed
    assert str(parsed) == path


@pytest.mark.parametrize(
    "path", ["bad name", "p/ds/data.csv", "p/ds:", "p/ds:v1:v2", "p/ds:v0/../x", "p/ds:v0/a//b", "p/ds:vX"]
)
def test_parse_store_path_refuses_what_names_nothing(path: str) -> None:
    with pytest.raises((InvalidNameError, InvalidReferenceError)):
        parse_store_path(path)
