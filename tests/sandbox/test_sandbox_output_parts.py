"""The captured output split per phase (criterion): WorkerClient.phase / output_parts.

No worker is started: the client's output file is written here the way a
worker's stdout/stderr would be (appended while a phase is current), and
`_harvest` is called as `kill()` calls it when a worker ends, so restarts
in the middle of a phase are covered too.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from grader.sandbox.client import LoadSpec, WorkerClient
from grader.sandbox.limits import WorkerLimits

PHASES = st.sampled_from([None, "forward", "training", "nag-step"])
# one step: (phase to switch to, text the worker prints, does the worker restart afterwards)
STEPS = st.lists(st.tuples(PHASES, st.text(alphabet="ab\n", max_size=12), st.booleans()), max_size=12)


class Fake:
    """A client whose 'worker' is this test writing into its output file."""

    def __init__(self, folder: Path, limit: int) -> None:
        self.client = WorkerClient(LoadSpec(folder / "nn.py", folder, "nn.py"),
                                   limits=WorkerLimits(output_bytes=limit))
        self.folder = folder
        self.starts = 0
        self.start()

    def start(self) -> None:
        self.starts += 1
        self.client._out = open(self.folder / f"output-{self.starts}.txt", "wb")

    def restart(self) -> None:
        self.client._harvest()
        self.start()

    def write(self, text: str) -> None:
        self.client._out.write(text.encode())   # a worker writes through its own descriptor: no flush here


@settings(max_examples=80, deadline=None)
@given(STEPS, st.integers(4, 80))
def test_parts_are_the_output_split_by_phase(steps, limit):
    with tempfile.TemporaryDirectory() as tmp:
        fake = Fake(Path(tmp), limit)
        written: list[tuple[str | None, str]] = []
        for phase, text, restart in steps:
            fake.client.phase(phase)
            fake.write(text)
            written.append((phase, text))
            if restart:
                fake.restart()
        fake.client.phase(None)
        parts = fake.client.output_parts()
        assert "".join(text for _, text in parts) == fake.client.output()
        everything = "".join(text for _, text in written)
        kept = everything[:limit]
        # byte by byte, every kept character is attributed to the phase it was printed in
        expected_owner = [phase for phase, text in written for _ in text][:limit]
        owner = [phase for phase, text in parts for _ in text][:len(kept)]
        assert "".join(text for _, text in parts).startswith(kept)
        assert owner == expected_owner
        if len(everything) > limit:
            assert parts[-1][1] == f"\n[... output truncated at {limit} bytes ...]"
        else:
            assert "".join(text for _, text in parts) == everything
        for (a, _), (b, _) in zip(parts, parts[1:]):   # neighbours of one phase are merged
            assert a != b or parts[-1][1].startswith("\n[...")
        fake.client._harvest()


def test_hidden_output_is_its_own_part(tmp_path):
    fake = Fake(tmp_path, 1000)
    fake.write("imported\n")
    fake.client.phase("forward")
    fake.write("fwd\n")
    fake.client.phase("training")
    fake.write("RuntimeWarning: divide by zero\n")
    fake.restart()                                   # crashed mid-criterion: the new worker's load, same phase
    fake.write("imported\n")
    fake.client.phase(None)
    assert fake.client.output_parts() == [(None, "imported\n"), ("forward", "fwd\n"),
                                          ("training", "RuntimeWarning: divide by zero\nimported\n")]
    fake.client._harvest()
