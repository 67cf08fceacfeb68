"""Bad files get their own kind and advice: not a syntax error, not a
missing class, and never a codec's byte offset inside the grader."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.diagnoses import CATALOGUE
from grader.engine import grade
from grader.submission import SubmissionError, prepare

ROOT = Path(__file__).resolve().parents[2]
CORRECT = ROOT / "submissions" / "correct_vectorized.py"


def _latin1_submission(tmp_path: Path) -> Path:
    """The correct submission with an accented comment on line 3, saved in Latin-1, no coding line."""
    lines = CORRECT.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(2, "# r\u00e9seau de neurones\n")
    path = tmp_path / "latin.py"
    path.write_bytes("".join(lines).encode("latin-1"))
    return path


def _zip_of(tmp_path: Path, files: dict[str, bytes]) -> Path:
    path = tmp_path / "hand-in.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def _pdf_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "pdf-only"
    folder.mkdir()
    (folder / "hw3.pdf").write_bytes(b"%PDF-1.4 report")
    return folder


CASES = {
    # name: (maker, kind, words the message must hold)
    "notebook-not-json": (lambda t: _write(t / "nn.ipynb", b"this is not json {"), "notebook-unreadable",
                          ["nn.ipynb", "not a readable notebook"]),
    "latin1-py": (_latin1_submission, "not-utf8", ["latin.py", "0xe9", "line 3, column 4", "no coding line"]),
    "pdf-folder": (_pdf_folder, "no-code-file", ["pdf-only", "found: hw3.pdf"]),
    "txt": (lambda t: _write(t / "notes.txt", b"my answer"), "no-code-file", ["notes.txt", "a .txt file"]),
    "pdf": (lambda t: _write(t / "report.pdf", b"%PDF"), "no-code-file", ["report.pdf", "a PDF"]),
    "empty-py": (lambda t: _write(t / "nn.py", b""), "empty-file", ["nn.py is empty"]),
    "blank-py": (lambda t: _write(t / "nn.py", b"\n  \n\t\n"), "empty-file", ["nn.py is empty"]),
    "empty-notebook": (lambda t: _write(t / "nn.ipynb", b'{"cells": [{"cell_type": "code", "source": "# todo",'
                                        b' "metadata": {}, "outputs": [], "execution_count": null}], "metadata": {},'
                                        b' "nbformat": 4, "nbformat_minor": 5}'),
                       "empty-file", ["nn.ipynb", "no code cells"]),
    "zip-nothing": (lambda t: _zip_of(t, {"readme.md": b"hi", "__MACOSX/._nn.py": b"junk"}), "no-code-file",
                    ["hand-in.zip", "found: readme.md"]),
    "zip-empty": (lambda t: _zip_of(t, {}), "no-code-file", ["hand-in.zip", "it is empty"]),
    "unknown-coding": (lambda t: _write(t / "nn.py", b"# coding: klingon\nx = 1\n"), "not-utf8",
                       ["nn.py", "coding line", "klingon"]),
    "declared-ascii": (lambda t: _write(t / "nn.py", b"# -*- coding: ascii -*-\nx = '\xe9'\n"), "not-utf8",
                       ["line 2, column 6", "read as ascii"]),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_bad_file_has_its_own_kind_message_and_advice(tmp_path, silu_rubric, case):
    maker, kind, words = CASES[case]
    path = maker(tmp_path)
    result = grade(path, silu_rubric).result
    assert result["error"]["kind"] == kind, result["error"]
    for word in words:
        assert word in result["error"]["message"], (word, result["error"]["message"])
    assert kind in CATALOGUE
    # the old, wrong advice never appears
    assert "py_compile" not in CATALOGUE[kind].fix and "Import only numpy" not in CATALOGUE[kind].fix
    assert all(c["diagnoses"] == [kind] for c in result["criteria"] if c["status"] == "error")


def test_a_declared_latin1_file_still_grades(tmp_path, silu_rubric):
    """The refusal is only for bytes Python itself could not read."""
    path = _latin1_submission(tmp_path)
    path.write_bytes(b"# -*- coding: latin-1 -*-\n" + path.read_bytes())
    scratch = tmp_path / "scratch"
    assert prepare(path, scratch).source.read_text(encoding="utf-8").count("r\u00e9seau") == 1


@settings(max_examples=40, deadline=None)
@given(prefix=st.lists(st.text(alphabet="abc =1\t#", max_size=12), max_size=6),
       bad=st.sampled_from([b"\xe9", b"\xff", b"\x80", b"\xc3("]))
def test_the_reported_position_is_where_the_bad_byte_is(tmp_path_factory, prefix, bad):
    folder = tmp_path_factory.mktemp("pos")
    text = "\n".join(prefix)
    raw = text.encode() + bad + b"\n"
    path = _write(folder / "nn.py", raw)
    with pytest.raises(SubmissionError) as err:
        prepare(path, folder / "scratch")
    assert err.value.kind == "not-utf8"
    line = text.count("\n") + 1
    column = len(text.split("\n")[-1]) + 1
    assert f"line {line}, column {column}" in err.value.message
