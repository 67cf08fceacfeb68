"""The unprivileged level: a grader that is not root still gives the worker
the allow-list root, through a user namespace
(``namespaces(user,...)+allowlist-root+rlimits``).  Root may name that
level in ``NNGRADE_ISOLATION`` (root creating the user namespace runs the
same launcher code as an unprivileged user would); the hostile fixtures
then get exactly what they get at the strongest level."""

from __future__ import annotations

import os
import sys

import pytest

from grader.engine import grade
from grader.sandbox import limits as limits_mod
from grader.sandbox.limits import LEVELS, isolation, isolation_level

from test_sandbox_hostile import small_rubric
from test_sandbox_isolation import allowed, decoys, render  # noqa: F401 (decoys: a fixture)

USERNS = next(level for level in LEVELS if "--user" in level.unshare and level.root)


def userns_works() -> bool:
    return limits_mod._probe(USERNS)


@pytest.fixture(params=["exec", "zygote"])
def userns_level(request, monkeypatch):
    """The level, with workers started as programs (`unshare --user ...`)
    or forked by a zygote whose children enter the user namespace themselves."""
    monkeypatch.setenv("NNGRADE_ISOLATION", USERNS.name)
    monkeypatch.setenv("NNGRADE_ZYGOTE", "1" if request.param == "zygote" else "0")
    limits_mod._chosen.cache_clear()
    yield request.param
    limits_mod._chosen.cache_clear()


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or not userns_works(),
                                reason="no unprivileged user namespace with mounts here")


def test_the_level_is_chosen_and_reported(userns_level):
    assert isolation() == USERNS
    name = isolation_level()
    assert "user" in name and "allowlist-root" in name and name.endswith("rlimits")


def test_nothing_outside_the_allow_list_without_root(decoys, tmp_path, userns_level):  # noqa: F811
    doc = grade(render("read_outside", tmp_path), small_rubric()).result
    assert "allowlist-root" in doc["isolation"] and "user" in doc["isolation"], doc["isolation"]
    assert doc["score"] == 100.0, doc["criteria"]
    assert not allowed(doc), doc["stdout"]
    for what in ("open /opt decoy", "open /var/tmp decoy", "import other checkout", "list repo",
                 "read /etc/passwd", "other site-packages"):
        assert f"refused: {what}" in doc["stdout"], doc["stdout"]


def test_c_library_folder_is_bound_for_a_system_interpreter(monkeypatch):
    """A system interpreter's prefix is /usr, which also holds the C
    library: its folder must still be bound (Debian's python3.11 found no
    libm.so.6 when the prefix rule came first)."""
    libc = next((lib for lib in limits_mod._mapped_libraries()
                 if os.path.basename(os.path.realpath(lib)).startswith("libc.so")), None)
    if libc is None:
        pytest.skip("no libc.so among the mapped libraries")
    folder = os.path.dirname(os.path.realpath(libc))
    parent = os.path.dirname(folder)
    for name in ("prefix", "base_prefix", "exec_prefix", "base_exec_prefix"):
        monkeypatch.setattr(sys, name, parent)
    binds = limits_mod.allowlist_plan()["binds"]
    assert any(folder == b or folder.startswith(b.rstrip("/") + "/") for b in binds), binds


VIEW = """import os, sys, json
st = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines() if ":" in l)
print("VIEW", json.dumps({"cap": st["CapEff"].strip(), "nnp": st["NoNewPrivs"].strip(), "uid": os.getuid(),
      "uid_map": open("/proc/self/uid_map").read().split(), "path": sys.path, "root": sorted(os.listdir("/")),
      "host": os.uname().nodename, "cwd": os.getcwd(), "argv": sys.argv, "env": dict(os.environ),
      "pid": os.getpid()}))
"""


def test_a_worker_forked_by_the_zygote_sees_what_an_exec_worker_sees(tmp_path, monkeypatch):
    """The user-namespace level through a zygote (what a grader that is not
    root gets: every `nngrade check` of a student on Linux) against the same
    level started as a program: the same view, no capabilities, no new
    privileges, root inside mapped to the grader's own user."""
    import json

    from grader.sandbox.client import LoadSpec, WorkerClient

    (tmp_path / "nn.py").write_text(VIEW)
    monkeypatch.setenv("NNGRADE_ISOLATION", USERNS.name)
    views, kinds = {}, {}
    for way in ("1", "0"):
        monkeypatch.setenv("NNGRADE_ZYGOTE", way)
        limits_mod._chosen.cache_clear()
        client = WorkerClient(LoadSpec(source=tmp_path / "nn.py", directory=tmp_path, filename="nn.py"))
        try:
            client.start()
            kinds[way] = type(client.proc).__name__
            assert client.load_error is None, client.output()
            line = next(x for x in client.output().splitlines() if x.startswith("VIEW "))
            views[way] = json.loads(line[5:])
        finally:
            client.close()
    limits_mod._chosen.cache_clear()
    assert kinds == {"1": "ZygoteProcess", "0": "Popen"}
    assert views["1"] == views["0"]
    view = views["1"]
    assert view["cap"] == "0000000000000000" and view["nnp"] == "1" and view["uid"] == 0
    assert view["uid_map"] == ["0", str(os.getuid()), "1"]
    assert view["host"] == "nngrade" and view["pid"] > 1 and "etc" in view["root"]   # its own UTS, PID ns, root
