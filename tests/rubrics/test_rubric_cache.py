"""The cache of validated rubrics `nngrade check` uses (grader/rubric_cache.py):
a hit equals a fresh parse, and a stale, tampered, foreign or unsound entry
is never used."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from grader import rubric_cache
from grader.rubric import RubricError, find_rubric, load_rubric, parse_rubric

SILU = find_rubric("penguins-silu")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(rubric_cache.CACHE_ENV, str(folder))
    return folder


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.pickle"))


def same(a, b) -> bool:
    return a == b and [c.check_params() for c in a.criteria] == [c.check_params() for c in b.criteria]


def rewrite(entry: Path, payload: bytes, *, keep_digest: bool) -> None:
    """Replace an entry's payload, with its old digest line or a matching one."""
    data = entry.read_bytes()
    digest = data[len(rubric_cache.MAGIC):].partition(b"\n")[0]
    if not keep_digest:
        digest = rubric_cache._digest(entry.name, payload).encode()
    entry.write_bytes(rubric_cache.MAGIC + digest + b"\n" + payload)


def test_a_cached_load_equals_a_fresh_parse(cache):
    first = load_rubric("penguins-silu", cached=True)
    assert len(entries(cache)) == 1
    second = load_rubric("penguins-silu", cached=True)
    assert same(first, load_rubric("penguins-silu")) and same(second, first)
    assert oct(os.stat(cache).st_mode & 0o777) == "0o700" and oct(os.stat(entries(cache)[0]).st_mode & 0o777) == "0o600"


def test_an_edited_rubric_never_meets_the_old_entry(cache, tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(SILU.read_text())
    load_rubric(path, cached=True)
    path.write_text(SILU.read_text().replace("title: Penguins MLP (SiLU)", "title: edited", 1))
    assert load_rubric(path, cached=True).title == "edited"
    assert len(entries(cache)) == 1   # the older entry of the same path is gone


def test_a_tampered_entry_is_not_used(cache):
    load_rubric("penguins-silu", cached=True)
    [entry] = entries(cache)
    forged = load_rubric("penguins-silu").model_copy(update={"title": "forged"})
    rewrite(entry, pickle.dumps(forged), keep_digest=True)   # payload edited, digest not
    assert load_rubric("penguins-silu", cached=True).title != "forged"
    entry.write_bytes(entry.read_bytes()[:-10])   # truncated
    assert load_rubric("penguins-silu", cached=True).title != "forged"


def test_an_entry_that_is_not_a_validated_rubric_is_not_used(cache):
    load_rubric("penguins-silu", cached=True)
    [entry] = entries(cache)
    unvalidated = load_rubric("penguins-silu")
    object.__setattr__(unvalidated.criteria[0], "__pydantic_private__", {"_params": None})
    for payload in (pickle.dumps({"id": "x"}), pickle.dumps(unvalidated)):
        rewrite(entry, payload, keep_digest=False)
        assert same(load_rubric("penguins-silu", cached=True), load_rubric("penguins-silu"))


def test_a_folder_others_may_write_is_neither_read_nor_written(cache):
    load_rubric("penguins-silu", cached=True)
    [entry] = entries(cache)
    forged = load_rubric("penguins-silu").model_copy(update={"title": "forged"})
    rewrite(entry, pickle.dumps(forged), keep_digest=False)
    os.chmod(cache, 0o777)
    assert load_rubric("penguins-silu", cached=True).title != "forged"
    os.chmod(cache, 0o700)
    os.chmod(entry, 0o666)
    assert load_rubric("penguins-silu", cached=True).title != "forged"


def test_changed_grader_code_misses(cache, monkeypatch):
    load_rubric("penguins-silu", cached=True)
    before = entries(cache)
    monkeypatch.setattr(rubric_cache, "_fingerprint", "another grader")
    load_rubric("penguins-silu", cached=True)
    assert entries(cache) != before and len(entries(cache)) == 1


def test_errors_are_never_cached_and_an_empty_variable_turns_it_off(cache, tmp_path, monkeypatch):
    path = tmp_path / "bad.yaml"
    path.write_text(SILU.read_text().replace("total_points: 100", "total_points: 99", 1))
    for _ in range(2):
        with pytest.raises(RubricError, match="total_points"):
            load_rubric(path, cached=True)
    assert entries(cache) == []
    monkeypatch.setenv(rubric_cache.CACHE_ENV, "")
    assert same(load_rubric("penguins-silu", cached=True), parse_rubric(SILU.read_text(), str(SILU)))
    assert entries(cache) == []
