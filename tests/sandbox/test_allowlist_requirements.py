"""The sandbox's allow-list reads each distribution's `Requires-Dist` from
METADATA's header directly (grader/sandbox/limits.py `_declared_requirements`,
a start-up cost of every `nngrade check`): it must read what
importlib.metadata's email parsing reads."""

from __future__ import annotations

from importlib import metadata

from grader.sandbox.limits import _declared_requirements


class FakeDist:
    def __init__(self, text: str | None, requires: list[str] | None = None) -> None:
        self.text, self.requires = text, requires

    def read_text(self, name: str) -> str | None:
        return self.text if name == "METADATA" else None


def test_every_installed_distribution_reads_the_same():
    dists = list(metadata.distributions())
    assert any(d.requires for d in dists)
    for dist in dists:
        assert _declared_requirements(dist) == list(dist.requires or []), dist.metadata["Name"]


def test_the_header_ends_at_the_first_empty_line_and_an_egg_info_install_falls_back():
    text = ("Metadata-Version: 2.1\nName: x\nrequires-dist: a>=1\nRequires-Dist: b; python_version < '4'\n"
            "Summary: s\n\nRequires-Dist: not-a-header (the description)\n")
    assert _declared_requirements(FakeDist(text)) == ["a>=1", "b; python_version < '4'"]
    assert _declared_requirements(FakeDist(None, ["c"])) == ["c"]
