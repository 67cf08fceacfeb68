"""The grader's side of the wire: no reply can hurt the grader.

A toy class whose methods take the worker over (patch its frame writer,
reader or request handler, write into the reply pipe) checks the client's
defences one by one: request ids, reply size caps computed from the request,
element/depth limits before decoding, write deadlines, and the grader-side
cleaning of every string (`grader.textsafe.clean`)."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from grader.sandbox.client import (DEFAULT_REPLY_BYTES, LoadSpec, ReplyTooComplex, WorkerClient, WorkerFailure,
                                   guarded_loads, reply_allowance)
from grader.sandbox.limits import WorkerLimits
from grader.textsafe import clean, clean_tree

TOY = r'''
import fcntl, json, os, struct, sys, time

MAIN = sys.modules["__main__"]


class Toy:
    def ok(self, value=1):
        return value

    def zeros(self, n):
        return [0.0] * n

    def size(self, value):
        return len(value)

    def long_error(self, n):
        MAIN.MAX_REPR = 10**9
        raise ValueError("\ud800\x1b[31m\u202e" + "E" * n)

    def bad_key(self):
        return {"k\ud800\x1b[2J": "v\x00\x07" + "w" * 5000}

    def stray(self):
        """An extra, well-formed answer frame (no id) written straight into the reply pipe."""
        body = json.dumps({"ok": True, "value": {"value": "stray"}}).encode()
        os.write(int(sys.argv[2]), struct.pack(">I", len(body)) + body)
        return 1

    def reply_with(self, body):
        """The worker answers this request with `body` (a str; "{id}" is replaced by the request's id)."""
        original = MAIN.write_frame

        def write_frame(stream, message):
            MAIN.write_frame = original
            data = body.replace("{id}", json.dumps(message.get("id"))).encode("utf-8")
            stream.write(struct.pack(">I", len(data)) + data)
            stream.flush()

        MAIN.write_frame = write_frame
        return 0

    def forge_first(self):
        """The worker answers the NEXT request twice: a forged answer with its
        id first, then the real one (which only a later request could get)."""
        original = MAIN.Worker.handle

        def handle(worker, req):
            MAIN.Worker.handle = original
            forged = json.dumps({"ok": True, "value": {"value": "forged"}, "id": req.get("id")}).encode()
            os.write(int(sys.argv[2]), struct.pack(">I", len(forged)) + forged)
            return original(worker, req)

        MAIN.Worker.handle = handle
        return 0

    def stall(self):
        """Shrink the request pipe to one page; never read a request larger than it."""
        fcntl.fcntl(int(sys.argv[1]), 1031, 4096)
        original = MAIN.read_frame

        def read_frame(stream):
            head = MAIN._read_exact(stream, 4)
            if head is None:
                return None
            (size,) = struct.unpack(">I", head)
            if size > 3000:
                while True:
                    time.sleep(3600)
            body = MAIN._read_exact(stream, size)
            return None if body is None else json.loads(body.decode("utf-8"))

        MAIN.read_frame = read_frame
        return 0
'''


@pytest.fixture
def toy(tmp_path):
    folder = tmp_path / "toy"
    folder.mkdir()
    src = folder / "nn.py"
    src.write_text(TOY)
    clients = []

    def make(**overrides) -> tuple[WorkerClient, int]:
        c = WorkerClient(LoadSpec(src, folder, "nn.py"), limits=WorkerLimits(memory_mb=1024, **overrides),
                         load_timeout=20)
        clients.append(c)
        c.start()
        assert c.load_error is None, c.load_error
        return c, new(c)

    yield make
    for c in clients:
        c.close()


def new(c: WorkerClient) -> int:
    return int(c.request({"op": "new", "class": "Toy", "kwargs": {}}, 20)["handle"])


def call(c: WorkerClient, handle: int, method: str, *args, timeout: float = 20, reply_bytes=None):
    message = {"op": "call", "handle": handle, "method": method, "args": list(args)}
    return c.request(message, timeout, reply_bytes=reply_bytes)["value"]


def protocol_failure(c: WorkerClient, handle: int, method: str, *args, **kwargs) -> WorkerFailure:
    with pytest.raises(WorkerFailure) as info:
        call(c, handle, method, *args, **kwargs)
    assert info.value.kind == "protocol", info.value.message
    assert not c.alive()    # an untrustworthy channel is never reused
    return info.value


# -- size caps --------------------------------------------------------------------------

def test_reply_size_is_capped_by_what_the_request_can_return(toy):
    c, h = toy()
    n = 200_000                        # 1.6 MB of float64, 2.1 MB on the wire: more than a small op's answer
    failure = protocol_failure(c, h, "zeros", n)
    assert f"where at most {DEFAULT_REPLY_BYTES} bytes can be expected" in failure.message
    h = new(c)                          # a fresh worker; the same answer, announced, is fine
    value = call(c, h, "zeros", n, reply_bytes=reply_allowance(n))
    assert isinstance(value, np.ndarray) and value.shape == (n,)
    assert reply_allowance(1_707_274) > 1_707_274 * 8 * 4 / 3   # the cifar-mlp gradient fits its allowance


def test_inflating_reply_is_refused_before_decoding(toy):
    c, h = toy()
    failure = protocol_failure(c, h, "reply_with", '{"ok":true,"value":[' + "[[]]," * 180_000 + '[]],"id":{id}}')
    assert "JSON elements" in failure.message         # 900 KB: under the size cap, but 360,000 lists
    h = new(c)
    body = '{"ok":true,"value":' + "[" * 5000 + "]" * 5000 + ',"id":{id}}'
    assert "nested more than" in protocol_failure(c, h, "reply_with", body).message
    assert call(c, new(c), "ok", 4) == 4


def test_guarded_loads():
    legit = {"ok": True, "value": {"__dict__": {"W0": {"__nd__": ["<f8", [2, 3], "AAAA[,,,]{}" * 1000]}}},
             "id": 3}
    body = json.dumps(legit).encode()
    assert guarded_loads(body, max_elements=100, max_depth=8) == legit   # brackets in strings do not count
    with pytest.raises(ReplyTooComplex):
        guarded_loads(b"[" + b"[]," * 1000 + b"[]]", max_elements=500)
    with pytest.raises(ReplyTooComplex):
        guarded_loads(b"[" * 100 + b"]" * 100, max_depth=40)
    with pytest.raises(ReplyTooComplex):
        guarded_loads(b"[" + b"0," * 1000 + b"0]", max_elements=500)
    with pytest.raises(ValueError):
        guarded_loads(b"{{{{", max_elements=500)


# -- strings ----------------------------------------------------------------------------------

def test_error_text_is_capped_and_cleaned_grader_side(toy):
    c, h = toy()
    with pytest.raises(WorkerFailure) as info:
        call(c, h, "long_error", 500_000)   # under the size cap: the text itself is capped
    failure = info.value
    assert failure.kind == "exception" and failure.error_type == "ValueError"
    assert len(failure.message) < 400 and "more characters cut" in failure.message
    assert failure.message.startswith("\ufffdEEEE")       # surrogate replaced, escape and override removed
    assert c.alive() and call(c, h, "ok", 2) == 2         # an exception is no protocol failure


def test_strings_and_keys_in_values_are_cleaned(toy):
    c, h = toy()
    value = call(c, h, "bad_key")
    [(key, text)] = value.items()
    assert key == "k\ufffd" and text.startswith("vwww") and len(text) < 2100
    json.dumps(value, ensure_ascii=False).encode("utf-8")   # writable


def test_clean():
    assert clean("a\x1b[31mred\x1b[0m\x1b]0;title\x07b\r\nc\rd\te\x00\x7f\u202e\ud800", 100) == "aredb\ncd\te\ufffd"
    assert clean("x" * 10, 4) == "xxxx [... 6 more characters cut]"
    assert clean(12) == "12"
    big = "A" * 40_000_000
    assert len(clean(big, 300)) < 400
    assert clean_tree({"k\x1b": ["\ud800", 1.5, ("\x07",)]}) == {"k": ["\ufffd", 1.5, ("",)]}


# -- ids --------------------------------------------------------------------------------------

def test_a_stray_frame_never_answers_a_later_request(toy):
    c, h = toy()
    assert "not the answer to the grader's request" in protocol_failure(c, h, "stray").message
    h = new(c)
    assert [call(c, h, "ok", v) for v in (2, 3)] == [2, 3]   # before ids: 1 (stray's real answer), then 2


def test_a_forged_answer_with_the_right_id_costs_the_next_request_only(toy):
    """The student's code can learn the id and answer first: that falsifies
    its own observation; the real answer left in the pipe is refused by the
    next request (a protocol failure there), never taken as its answer."""
    c, h = toy()
    call(c, h, "forge_first")
    assert call(c, h, "ok", 5) == "forged"
    protocol_failure(c, h, "ok", 6)
    h = new(c)
    assert [call(c, h, "ok", v) for v in (7, 8)] == [7, 8]


# -- writes ----------------------------------------------------------------------------------

def test_a_worker_that_stops_reading_cannot_hang_the_write(toy):
    c, h = toy()
    call(c, h, "stall")
    started = time.monotonic()
    with pytest.raises(WorkerFailure) as info:
        call(c, h, "size", "x" * 2_000_000, timeout=1.0)   # 2 MB into a 4 KiB pipe nobody reads
    assert info.value.kind == "protocol" and "stopped reading the grader's requests" in info.value.message
    assert "backstop of 3 s" in info.value.message
    assert time.monotonic() - started < 60       # generous: the backstop is 3 s; before: forever
    assert not c.alive()
    h = new(c)
    assert call(c, h, "size", "x" * 2_000_000) == 2_000_000   # a fresh worker reads it


def test_output_is_cleaned(toy, tmp_path):
    c, h = toy()
    c._out.write(b"\x1b[2Jhello\xed\xa0\x80 \x07world\r\n")
    assert c.output() == "hello\ufffd\ufffd\ufffd world\n"
