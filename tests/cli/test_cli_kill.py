"""`kill -9` in the middle of a batch loses no finished grade, and the re-run
completes the batch without regrading what was committed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FILES = ("result.json", "report.html", "gradescope.json", "run.json")
SUBSET = ("bug_sum_not_mean.py", "bug_syntax_error.py", "correct_folder",
          "correct_notebook.ipynb", "correct_vectorized.py")
IDS = ["bug_sum_not_mean", "bug_syntax_error", "correct_folder", "correct_notebook", "correct_vectorized"]


def committed(db: Path) -> list[str]:
    """Submissions in the store, read-only (never disturbs the writer)."""
    if not db.exists():
        return []
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0)
        try:
            return [r[0] for r in con.execute("SELECT submission FROM grades ORDER BY submission")]
        finally:
            con.close()
    except sqlite3.OperationalError:   # not created yet, or no table yet
        return []


def test_cli_kill_9_then_resume(copy_subs, run_proc, cli_environ, tmp_path):
    subs = copy_subs(tmp_path / "subs", SUBSET)
    out = tmp_path / "out"
    db = out / "nngrade.sqlite"
    log = (tmp_path / "killed.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "grader.cli", "batch", str(subs), "--out", str(out),
                             "--workers", "1"], cwd=REPO, env=cli_environ, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not committed(db):
            assert proc.poll() is None, f"batch ended (exit {proc.returncode}) before the kill: " \
                                        f"{(tmp_path / 'killed.log').read_text()}"
            assert time.monotonic() < deadline, "no grade committed within 120 s"
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        log.close()
    assert proc.returncode == -signal.SIGKILL, "the batch was meant to die by SIGKILL"

    done = committed(db)
    assert 1 <= len(done) < len(IDS), f"kill came too late to test resuming: {done}"
    for sid in done:   # committed grades come with their files
        assert all((out / sid / f).is_file() for f in FILES), sid
    mtimes = {sid: (out / sid / "result.json").stat().st_mtime_ns for sid in done}

    run = run_proc(["batch", subs, "--out", out, "--workers", "1"], timeout=300)
    assert run.code == 0, run
    todo = len(IDS) - len(done)
    assert f"{todo} to grade, {len(done)} unchanged (kept)" in run.out, run
    assert f"graded {todo}, unchanged {len(done)}, grader failures 0" in run.out, run
    for sid in done:
        assert (out / sid / "result.json").stat().st_mtime_ns == mtimes[sid], f"{sid} was regraded"

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT submission, COUNT(*) FROM grades GROUP BY submission ORDER BY submission").fetchall()
        total = con.execute("SELECT COUNT(*) FROM grades").fetchone()[0]
    finally:
        con.close()
    assert rows == [(sid, 1) for sid in IDS] and total == len(IDS), rows
    for sid in IDS:
        assert all((out / sid / f).is_file() for f in FILES), sid
    leftovers = sorted(str(p.relative_to(out)) for p in out.rglob(".*"))
    assert leftovers == [], f"temp files left in OUT: {leftovers}"
    gradebook = (out / "gradebook.csv").read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[0] for line in gradebook[1:]] == IDS
