"""Names are data, never markup or paths (issue 10, item 4).

Hostile submission names and encodings, each with its outcome pinned.  The
odd file names are built in tmp_path here: git cannot hold some of them
(bytes that are not UTF-8, escape sequences).  One batch grades them all
(module fixture `hostile`); the unit tests below it start no worker.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.batch import CLASS_OUTPUTS
from grader.release import RELEASE_DIR
from grader.names import csv_cell, display, for_terminal, href, is_id, is_safe, slug
from grader.submission import SubmissionError, digest_of, discover, prepare, source_as_utf8, submission_id

REPO = Path(__file__).resolve().parents[2]
GOOD = (REPO / "submissions" / "correct_vectorized.py").read_bytes()
QUICK = b"import numpy as np\nclass NN:\n    pass\n"   # loads fast, fails every criterion
ESC = "\x1b"
HOSTILE_MESSAGE = 'raise ValueError("\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31m[bold red]markup[/]\\r\\x9b2J")\n'
LATIN1_NAME = b"jos\xe9"   # "josé" in Latin-1: not UTF-8


def _write(folder: Path, name: str | bytes, data: bytes) -> None:
    target = os.path.join(os.fsencode(folder), name if isinstance(name, bytes) else os.fsencode(name))
    with open(target, "wb") as handle:
        handle.write(data)


def build_hostile(subs: Path, outside: Path) -> dict[str, str]:
    """The hostile class; returns {what: name as handed in (display form)}."""
    subs.mkdir(parents=True)
    outside.mkdir(parents=True)
    _write(subs, "alice.py", GOOD)
    _write(subs, "javascript:alert(document.domain).py", GOOD)
    _write(subs, "=1+2.py", QUICK)
    _write(subs, "-2+3.py", QUICK)
    _write(subs, "@SUM(A1).py", QUICK)
    _write(subs, "gradebook.csv.py", QUICK)
    (subs / "summary.html").mkdir()
    _write(subs / "summary.html", "nn.py", QUICK)
    _write(subs, "nngrade.sqlite.py", QUICK)
    _write(subs, LATIN1_NAME + b".py", GOOD)
    _write(subs, "\x1b]0;pwned\x07\x1b[31mred.py", QUICK)
    _write(subs, "a b.py", QUICK)   # a b and a?b sanitize alike
    _write(subs, "a?b.py", QUICK)
    _write(subs, "esc.py", HOSTILE_MESSAGE.encode())
    _write(subs, "cookie.py", b"# -*- coding: latin-1 -*-\n# caf\xe9 cr\xe8me\n" + GOOD)
    _write(subs, "bom.py", b"\xef\xbb\xbf" + GOOD)
    root_only = outside / "root_only.py"
    root_only.write_bytes(GOOD)
    root_only.chmod(0o600)
    (subs / "mallory.py").symlink_to(root_only)
    return {"latin1": display(os.fsdecode(LATIN1_NAME))}


def read_csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, run_cli) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("cli-names")
    subs, out = root / "submissions", root / "out"
    names = build_hostile(subs, root / "elsewhere")
    run = run_cli(["batch", subs, "--rubric", "penguins-silu", "--out", out, "--workers", "2"])
    results = {p.parent.name: json.loads(p.read_text(encoding="utf-8")) for p in out.glob("*/result.json")}
    by_name = {r["name"]: r for r in results.values()}
    return SimpleNamespace(subs=subs, out=out, run=run, results=results, by_name=by_name, names=names)


@pytest.mark.slow
def test_hostile_batch_completes_without_traceback_or_escapes(hostile):
    run = hostile.run
    assert run.code == 0, run
    assert "Traceback" not in run.out + run.err, run
    assert ESC not in run.out + run.err and "\x9b" not in run.out + run.err, repr(run.out)
    assert "grader failures 0" in run.out, run


@pytest.mark.slow
def test_every_submission_has_a_row_and_a_safe_folder(hostile):
    entries = discover(hostile.subs)
    assert len(entries) == 16
    ids = [submission_id(p) for p in entries]
    assert len(set(ids)) == len(ids)
    assert sorted(hostile.results) == sorted(ids)
    for sid, result in hostile.results.items():
        assert result["submission"] == sid
        assert is_safe(sid) or re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*~[0-9a-f]{12}", sid), sid
        assert {"result.json", "report.html", "gradescope.json", "run.json"} <= {
            p.name for p in (hostile.out / sid).iterdir()}
    plain = read_csv_rows(hostile.out / "gradebook.csv")
    assert plain[0][:2] == ["submission", "name"]
    assert sorted(r[0] for r in plain[1:]) == sorted(ids)
    canvas = read_csv_rows(hostile.out / "gradebook_canvas.csv")
    assert sorted(r[3] for r in canvas[2:]) == sorted(ids)
    # the names as handed in are kept
    for name in ("alice", "javascript:alert(document.domain)", "=1+2", "gradebook.csv", "summary.html",
                 "nngrade.sqlite", "a b", "a?b", "mallory", hostile.names["latin1"]):
        assert name in hostile.by_name, (name, sorted(hostile.by_name))
    assert hostile.by_name["a b"]["submission"] != hostile.by_name["a?b"]["submission"]
    assert hostile.by_name["alice"]["submission"] == "alice"   # a plain name is its own id


@pytest.mark.slow
def test_class_outputs_are_never_a_students_folder(hostile):
    for name in CLASS_OUTPUTS:   # files, and the release tree's folder
        assert (hostile.out / name).is_dir() if name == RELEASE_DIR else (hostile.out / name).is_file(), name
    for path in hostile.out.iterdir():   # whatever else the batch writes there is no id either
        assert (path.is_dir() and path.name != RELEASE_DIR) == is_id(path.name), path.name
    # the release tree mirrors the students' folders under the same ids
    assert sorted(p.name for p in (hostile.out / RELEASE_DIR).iterdir() if p.is_dir()) == \
        sorted(p.name for p in hostile.out.iterdir() if p.is_dir() and p.name != RELEASE_DIR)
    assert hostile.by_name["gradebook.csv"]["score"] == 0.0   # graded (QUICK fails), in its own folder
    assert (hostile.out / hostile.by_name["summary.html"]["submission"] / "report.html").is_file()
    assert hostile.by_name["nngrade.sqlite"]["submission"] != "nngrade.sqlite"


@pytest.mark.slow
def test_summary_links_are_relative_and_never_a_scheme(hostile):
    html = (hostile.out / "summary.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert len(hrefs) >= 16
    for h in hrefs:
        assert not re.match(r"^\s*[A-Za-z][A-Za-z0-9+.-]*:", h), h
        if not h.startswith("#"):
            assert (hostile.out / h).is_file(), h   # every link leads to that student's report
    assert "javascript:alert(document.domain)" in html       # shown as a name, not as a link


@pytest.mark.slow
def test_csv_cells_are_neutralized(hostile):
    for name in ("gradebook.csv", "gradebook_canvas.csv"):
        for row in read_csv_rows(hostile.out / name):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, row)
    plain = {r[0]: r for r in read_csv_rows(hostile.out / "gradebook.csv")[1:]}
    assert plain[hostile.by_name["=1+2"]["submission"]][1] == "'=1+2"
    assert plain[hostile.by_name["-2+3"]["submission"]][1] == "'-2+3"
    assert plain[hostile.by_name["@SUM(A1)"]["submission"]][1] == "'@SUM(A1)"


@pytest.mark.slow
def test_non_utf8_name_is_graded(hostile):
    result = hostile.by_name[hostile.names["latin1"]]
    assert "\ufffd" in result["name"]
    assert result["error"] is None and result["score"] == result["max_score"], result["error"]


@pytest.mark.slow
def test_symlink_is_refused_unread(hostile):
    result = hostile.by_name["mallory"]
    assert result["submission"] == "mallory"          # the link's own name, not its target's
    assert result["error"] == {"kind": "symlink",
                               "message": "mallory.py is a symbolic link; hand in the file itself"}
    assert result["score"] == 0.0
    plain = {r[0]: r for r in read_csv_rows(hostile.out / "gradebook.csv")[1:]}
    assert plain["mallory"][-1] == "symlink: mallory.py is a symbolic link; hand in the file itself"
    assert not (hostile.out / "root_only").exists()


@pytest.mark.slow
def test_coding_cookie_and_bom_sources_are_graded(hostile):
    for name in ("cookie", "bom"):
        result = hostile.by_name[name]
        assert result["error"] is None and result["score"] == result["max_score"], (name, result["error"])


@pytest.mark.slow
def test_only_accepts_the_name_as_handed_in(hostile, run_cli, tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(hostile.out, out)
    run = run_cli(["batch", hostile.subs, "--rubric", "penguins-silu", "--out", out, "--only", "a b"])
    assert run.code == 0, run
    assert "1 to grade" in run.out and hostile.by_name["a b"]["submission"] in run.out, run


@pytest.mark.slow
def test_grade_and_check_print_messages_as_plain_text(hostile, run_cli, tmp_path):
    for argv in (["grade", hostile.subs / "esc.py", "--out", tmp_path / "g"], ["check", hostile.subs / "esc.py"]):
        run = run_cli([*argv, "--rubric", "penguins-silu"])
        assert run.code in (0, 1), run
        assert ESC not in run.out + run.err and "\x9b" not in run.out + run.err and "\r" not in run.out, repr(run.out)
        assert "[bold red]markup[/]" in run.out, run   # shown, never interpreted as markup
        assert "Traceback" not in run.out + run.err, run


# -- no worker: the pieces -----------------------------------------------------------

def test_slug_is_safe_deterministic_and_tells_names_apart():
    assert slug("alice") == "alice" and slug("alice.smith_2-b") == "alice.smith_2-b"
    odd = ["javascript:alert(1)", "=1+2", "a b", "a?b", "a_b~", "../etc", "José", os.fsdecode(b"jos\xe9"),
           "\x1b]0;x\x07", "", "summary.html", "GRADEBOOK.CSV", "nngrade.sqlite", "x" * 300, "-rf", "~"]
    ids = [slug(n) for n in odd]
    assert len(set(ids)) == len(ids)
    for name, sid in zip(odd, ids):
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*~[0-9a-f]{12}", sid), (name, sid)
        assert is_id(sid) and not is_safe(sid)
        assert slug(name) == sid and len(sid) <= 80
    assert slug("José").startswith("Jose~")
    for name in (*CLASS_OUTPUTS, "nngrade.sqlite-wal", "nngrade.sqlite-shm", "nngrade.sqlite-journal"):
        assert not is_safe(name) and not is_id(name) and slug(name) != name


def test_href_csv_and_terminal_helpers():
    assert href("javascript:alert(1)") == "javascript%3Aalert%281%29/report.html"
    assert href("a/../b") == "a%2F..%2Fb/report.html"
    assert [csv_cell(v) for v in ("=1", "+1", "-1", "@x", "\t1", "\r=1", "ok", 3.0)] == \
        ["'=1", "'+1", "'-1", "'@x", "'\t1", "'=1", "ok", 3.0]
    assert csv_cell("a\rb\x1b[31mc\nd") == "abc\nd"   # a lone CR would start a forged row
    hostile = "a\x1b]0;title\x07b\x1b[31mc\x1b]8;;http://x\x1b\\d\x9b2Je\rf\x00g\u202eh\ti\nj" + os.fsdecode(b"\xe9")
    assert for_terminal(hostile) == "abcdefgh\ti\nj\ufffd"


def test_top_level_symlink_is_listed_refused_and_never_read(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    target = tmp_path / "secret.py"
    target.write_bytes(GOOD)
    (subs / "mallory.py").symlink_to(target)
    (subs / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    assert [p.name for p in discover(subs)] == ["dangling.py", "mallory.py"]
    assert submission_id(subs / "mallory.py") == "mallory"
    before = digest_of(subs / "mallory.py")
    target.write_bytes(b"changed")
    assert digest_of(subs / "mallory.py") == before     # the target's bytes are not read
    with pytest.raises(SubmissionError) as info:
        prepare(subs / "mallory.py", tmp_path / "scratch")
    assert info.value.kind == "symlink"
    assert info.value.message == "mallory.py is a symbolic link; hand in the file itself"


def test_non_utf8_name_is_prepared_under_its_id(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    _write(subs, LATIN1_NAME + b".py", GOOD)
    (path,) = discover(subs)
    digest_of(path)                                   # no UnicodeEncodeError
    prepared = prepare(path, tmp_path / "scratch")
    assert prepared.id == submission_id(path) and "~" in prepared.id
    assert prepared.name == "jos\ufffd" and prepared.filename == "jos\ufffd.py"
    str(prepared.source).encode("utf-8")              # the worker's request is valid UTF-8
    assert prepared.source.read_bytes() == GOOD


def test_cookie_source_is_transcoded_keeping_line_numbers(tmp_path):
    src = tmp_path / "nn.py"
    original = b"#!/usr/bin/env python\n# -*- coding: latin-1 -*-\r\ns = 'caf\xe9'\nraise ValueError(s)\n"
    src.write_bytes(original)
    assert source_as_utf8(src) == "iso-8859-1"
    text = src.read_bytes().decode("utf-8")
    lines = text.splitlines(keepends=True)
    assert len(lines) == 4 and lines[0] == "#!/usr/bin/env python\n"
    assert lines[1].startswith("# [nngrade:") and "coding:" not in lines[1] and lines[1].endswith("\r\n")
    assert lines[2] == "s = 'café'\n"
    namespace: dict = {}
    with pytest.raises(ValueError, match="café") as info:
        exec(compile(text, "nn.py", "exec"), namespace)
    assert info.traceback[-1].lineno + 1 == 4        # pytest's lineno is 0-based: still line 4


def test_bom_is_dropped_and_utf8_left_alone(tmp_path):
    bom = tmp_path / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbfx = 'caf\xc3\xa9'\n")
    assert source_as_utf8(bom) == "utf-8-sig"
    assert bom.read_bytes() == b"x = 'caf\xc3\xa9'\n"
    plain = tmp_path / "plain.py"
    plain.write_bytes(b"# coding: utf-8\nx = 1\n")
    assert source_as_utf8(plain) is None and plain.read_bytes() == b"# coding: utf-8\nx = 1\n"
    broken = tmp_path / "broken.py"
    broken.write_bytes(b"x = '\xe9'\n")                 # not UTF-8, no declaration: Python refuses it too
    assert source_as_utf8(broken) is None and broken.read_bytes() == b"x = '\xe9'\n"


def test_odd_names_in_error_messages_stay_valid_unicode(tmp_path):
    """A bad zip or a folder with an escaping link, named in bytes that are not
    UTF-8: the refusal's message is valid Unicode (result.json can be written)."""
    subs = tmp_path / "subs"
    subs.mkdir()
    _write(subs, LATIN1_NAME + b".zip", b"not a zip")
    folder = os.path.join(os.fsencode(subs), LATIN1_NAME)
    os.mkdir(folder)
    os.symlink(tmp_path, os.path.join(folder, b"l\xe9nk"))
    for path in discover(subs):
        digest_of(path)
        with pytest.raises(SubmissionError) as info:
            prepare(path, tmp_path / "scratch" / path.suffix.strip("."))
        assert info.value.kind == "bad-archive"
        info.value.message.encode("utf-8")
        assert "\ufffd" in info.value.message and str(info.value) == info.value.message


def test_non_utf8_main_file_inside_a_folder_is_prepared(tmp_path):
    sub = tmp_path / "subs" / "carol"
    sub.mkdir(parents=True)
    _write(sub, LATIN1_NAME + b".py", GOOD)
    prepared = prepare(sub, tmp_path / "scratch")
    assert prepared.id == "carol" and prepared.filename == "jos\ufffd.py"
    str(prepared.source).encode("utf-8")
    str(prepared.directory).encode("utf-8")
    assert prepared.source.read_bytes() == GOOD
