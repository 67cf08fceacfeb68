"""The only code that runs next to student code.

This file is deliberately standalone (standard library + NumPy, no grader
imports): the client copies it into the submission's scratch folder and runs
it as a script in a fresh, limited process.  It executes the submission once,
then answers requests from the grader by calling the student's class and
returning *observations* -- arrays, numbers and descriptions of exceptions.
It never judges anything: a submission that tampers with this process can
only falsify its own observations, which the grader then judges as wrong.

Wire format, both ways: a 4-byte big-endian length, then UTF-8 JSON; every
request has an ``id`` that its reply echoes.  Arrays
travel as ``{"__nd__": [dtype, shape, base64]}``; the grader decodes them with
:func:`decode`, which accepts only plain numeric dtypes (never pickle).
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import struct
import sys
import time
import traceback
import types
from collections.abc import Mapping, MutableMapping
from typing import Any

MAX_REPR = 300
NUMERIC_KINDS = "biuf"


# --------------------------------------------------------------------------
# encoding (shared with the grader, which imports encode/decode from here)
# --------------------------------------------------------------------------

def encode(value: Any, np: Any, depth: int = 0) -> Any:
    """Describe any student value as JSON-safe data without running its methods
    more than necessary.  Numeric arrays are sent raw; other objects are
    described by type and a short repr, plus an array view when NumPy can make
    one."""
    if depth > 6:
        return {"__obj__": type(value).__name__, "repr": "<nested too deep>"}
    if value is None or isinstance(value, (bool, str)):
        return value if not isinstance(value, str) else value[:MAX_REPR]
    if isinstance(value, (int, float)) and type(value) in (int, float):
        return _number(value)
    if isinstance(value, np.generic) and value.dtype.kind in NUMERIC_KINDS:
        return _number(value.item())
    if isinstance(value, np.ndarray) and value.dtype.kind in NUMERIC_KINDS:
        arr = np.ascontiguousarray(value)
        return {"__nd__": [arr.dtype.str, list(arr.shape),
                           base64.b64encode(arr.tobytes()).decode("ascii")]}
    if isinstance(value, Mapping):   # dict, OrderedDict, a student's own Mapping class
        out = {"__dict__": {str(k): encode(v, np, depth + 1) for k, v in value.items()}}
        if type(value) is not dict:
            out["from"] = type(value).__name__
        return out
    if type(value) in (list, tuple):
        try:
            arr = np.asarray(value, dtype=np.float64)
            out = encode(arr, np, depth + 1)
            out["from"] = type(value).__name__
            return out
        except Exception:
            return {"__list__": [encode(v, np, depth + 1) for v in value[:1000]],
                    "from": type(value).__name__}
    desc: dict[str, Any] = {"__obj__": type(value).__name__}
    try:
        desc["repr"] = repr(value)[:MAX_REPR]
    except Exception as exc:  # a hostile __repr__
        desc["repr"] = f"<repr failed: {type(exc).__name__}>"
    if type(value).__name__ not in ("generator", "function", "method", "module"):
        try:
            arr = np.asarray(value, dtype=np.float64)
            desc["array"] = encode(arr, np, depth + 1)
        except Exception:
            pass
    return desc


def parameters_digest(theta: dict, keys: list) -> str:
    """Fingerprint of float64 parameter arrays (shape and bytes, in key order)."""
    import hashlib

    sha = hashlib.sha256()
    for key in keys:
        arr = theta[key]
        sha.update(f"{key}{arr.shape}".encode())
        sha.update(arr.astype("<f8").tobytes())
    return sha.hexdigest()


def _number(x: Any) -> Any:
    if isinstance(x, bool):
        return x
    if isinstance(x, float) and not math.isfinite(x):
        return {"__float__": repr(x)}
    return x


def decode(value: Any, np: Any) -> Any:
    """Inverse of :func:`encode` for the grader.  Refuses anything but plain
    numeric dtypes so a forged message cannot make the grader unpickle or
    allocate without bound."""
    if isinstance(value, dict):
        if "__nd__" in value:
            dtype, shape, data = value["__nd__"]
            dt = np.dtype(dtype)
            if dt.kind not in NUMERIC_KINDS or dt.hasobject:
                raise ValueError(f"refused dtype {dtype!r}")
            raw = base64.b64decode(data)
            count = 1
            for n in shape:
                count *= int(n)
            if count * dt.itemsize != len(raw):
                raise ValueError("array payload does not match its shape")
            return np.frombuffer(raw, dtype=dt).reshape([int(n) for n in shape]).copy()
        if "__float__" in value:
            return float(value["__float__"])
        if "__dict__" in value:
            return {k: decode(v, np) for k, v in value["__dict__"].items()}
        if "__list__" in value:
            return [decode(v, np) for v in value["__list__"]]
        if "__unit__" in value:
            return value
        return {k: decode(v, np) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v, np) for v in value]
    return value


def write_frame(stream: Any, message: dict) -> None:
    data = json.dumps(message, separators=(",", ":")).encode("utf-8")
    stream.write(struct.pack(">I", len(data)) + data)
    stream.flush()


def read_frame(stream: Any) -> dict | None:
    head = _read_exact(stream, 4)
    if head is None:
        return None
    (size,) = struct.unpack(">I", head)
    body = _read_exact(stream, size)
    if body is None:
        return None
    return json.loads(body.decode("utf-8"))


def _read_exact(stream: Any, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


# --------------------------------------------------------------------------
# the worker loop
# --------------------------------------------------------------------------

class Worker:
    """Holds the loaded submission and the instances the grader created."""

    def __init__(self, np: Any) -> None:
        self.np = np
        self.module: dict[str, Any] | None = None
        self.instances: dict[int, Any] = {}
        self.next_handle = 1
        self.student_files: set[str] = set()  # file names (and folders, ending in os.sep) of the submission
        self.glued: type | None = None         # the view over an instructor's glue (None: the default glue)
        self._kept: dict[str, Any] = {}        # op_loss_at's base between requests

    # -- helpers ----------------------------------------------------------
    def _arg(self, value: Any) -> Any:
        return decode(value, self.np)

    def _seed(self, seed: int) -> None:
        import random
        random.seed(seed)
        self.np.random.seed(seed)
        _seed_default_rng(self.np, seed)

    def _set_attr(self, obj: Any, attr: str, value: Any) -> None:
        """Write parameters where the student keeps them.  A property (or
        another data descriptor) with a setter is written through it; a
        mutable Mapping held as an attribute is updated in place, keeping its
        identity (students alias it), its type and its other keys; an
        immutable Mapping is replaced by one of its own type when that type
        can be built from a dict.  A read-only property is written into only
        when it hands out a mutable Mapping (which may be the live storage:
        `op_set` reads back to tell)."""
        if not isinstance(value, Mapping):
            setattr(obj, attr, value)
            return
        fresh = {key: val.copy() if hasattr(val, "copy") else val for key, val in value.items()}
        descriptor = _class_attribute(type(obj), attr)
        current = getattr(obj, attr, None)
        if hasattr(type(descriptor), "__set__") and not _read_only(descriptor) \
                and not isinstance(descriptor, types.MemberDescriptorType):   # a __slots__ entry is plain storage
            setattr(obj, attr, _like(current, fresh))
        elif isinstance(current, MutableMapping):
            for key, val in fresh.items():
                current[key] = val
        elif isinstance(current, Mapping) or not _read_only(descriptor):
            setattr(obj, attr, _like(current, fresh))

    def _lost(self, obj: Any, attr: str, value: Mapping) -> list:
        """The keys whose values did not stick: reading `attr` back does not
        give what was just written (compared in the dtype the student keeps)."""
        np = self.np
        try:
            now = getattr(obj, attr)
        except Exception:
            return sorted(str(k) for k in value)
        if not isinstance(now, Mapping):
            return sorted(str(k) for k in value)
        lost = []
        for key, val in value.items():
            try:
                got = np.asarray(now[key])
                want = np.asarray(val)
                if got.dtype.kind in NUMERIC_KINDS and want.dtype.kind in NUMERIC_KINDS:
                    want = want.astype(got.dtype)
                same = got.shape == want.shape and bool(np.array_equal(got, want))
            except Exception:
                same = False
            if not same:
                lost.append(str(key))
        return lost

    def _with(self, base: dict, key: str, index: int, delta: float) -> dict:
        out = {k: v.copy() for k, v in base.items()}
        flat = out[key].reshape(-1)
        flat[index] += delta
        return out

    # -- operations -------------------------------------------------------
    def op_ping(self, req: dict) -> Any:
        return "pong"

    def op_load(self, req: dict) -> Any:
        directory = req["dir"]
        if directory not in sys.path:
            sys.path.insert(0, directory)
        self.student_files = {req.get("filename", "nn.py"), req["source"], os.path.join(directory, "")}
        with open(req["source"], encoding="utf-8") as handle:
            source = handle.read()
        code = compile(source, req.get("filename", "nn.py"), "exec")
        # a real module, registered in sys.modules before it runs (as importlib
        # does), so dataclasses, typing.get_type_hints and pickle find it; named
        # "nn", never "__main__", so a demo under `if __name__ == "__main__":` does not run
        name = req.get("module_name", "nn")
        module = types.ModuleType(name)
        module.__file__ = req["source"]
        module.__builtins__ = __builtins__
        namespace: dict[str, Any] = module.__dict__
        self._seed(int(req.get("seed", 0)))
        sys.modules[name] = module
        try:
            exec(code, namespace)  # noqa: S102 -- this is the sandbox's job
        except BaseException:
            if sys.modules.get(name) is module:
                del sys.modules[name]
            raise
        self.module = namespace
        classes = sorted(k for k, v in namespace.items() if isinstance(v, type))
        if req.get("glue"):
            self.glued = load_glue(req["glue"], module)
        return {"classes": classes}

    def op_new(self, req: dict) -> Any:
        kwargs = {k: self._arg(v) for k, v in req.get("kwargs", {}).items()}
        if self.glued is not None:   # the glue builds it: kwargs is the canonical config
            self._seed(int(req.get("seed", 0)))
            obj = self.glued(self.glued.glue["construct"](sys.modules[self.glued.module_name], kwargs))
        else:
            cls = self.module.get(req["class"]) if self.module else None
            if cls is None:
                raise LookupError(f"no class named {req['class']!r} is defined")
            self._seed(int(req.get("seed", 0)))
            obj = cls(**kwargs)
        handle = self.next_handle
        self.next_handle += 1
        self.instances[handle] = obj
        return {"handle": handle, "methods": sorted(
            n for n in dir(obj) if not n.startswith("__") and callable(getattr(obj, n, None)))}

    def op_get(self, req: dict) -> Any:
        if req.get("handle") is None:   # a module-level name, e.g. a notebook's answers = {...}
            if self.module is None or req["attr"] not in self.module:
                raise NameError(f"the submission defines no module-level name {req['attr']!r}")
            return encode(self.module[req["attr"]], self.np)
        obj = self.instances[req["handle"]]
        if not hasattr(obj, req["attr"]):
            raise AttributeError(f"the object has no attribute {req['attr']!r}")
        return encode(getattr(obj, req["attr"]), self.np)

    def op_describe(self, req: dict) -> Any:
        """Keys, shapes and dtypes of a parameter container, without its
        values: learning a layout costs bytes, not megabytes."""
        np = self.np
        value = getattr(self.instances[req["handle"]], req["attr"])
        if not isinstance(value, Mapping):
            return {"type": type(value).__name__, "entries": {}}
        entries = {}
        for key, item in value.items():
            if isinstance(item, np.ndarray) and item.dtype.kind in NUMERIC_KINDS:
                entries[str(key)] = {"shape": list(item.shape), "size": int(item.size), "dtype": str(item.dtype)}
                continue
            try:
                arr = np.asarray(item, dtype=np.float64) if type(item) in (list, tuple) else None
            except Exception:
                arr = None
            if arr is not None:
                entries[str(key)] = {"shape": list(arr.shape), "size": int(arr.size), "dtype": "float64"}
            else:
                entries[str(key)] = {"shape": None, "size": 0, "dtype": type(item).__name__}
        # "dict" stands for any Mapping; "container" keeps the student's type name
        return {"type": "dict", "container": type(value).__name__, "entries": entries}

    def op_set(self, req: dict) -> Any:
        """Set an attribute; with `verify`, read it back: None when the values
        stuck, else which keys were lost and whether `attr` is a read-only
        property that hands out a new object on every read (a copy)."""
        obj, attr, value = self.instances[req["handle"]], req["attr"], self._arg(req["value"])
        self._set_attr(obj, attr, value)
        if not (req.get("verify") and isinstance(value, Mapping)):
            return None
        lost = self._lost(obj, attr, value)
        if not lost:
            return None
        try:
            copy = getattr(obj, attr) is not getattr(obj, attr)
            container = type(getattr(obj, attr)).__name__
        except Exception:
            copy, container = False, "?"
        return {"lost": lost, "read_only": _read_only(_class_attribute(type(obj), attr)), "copy": copy,
                "container": container}

    def op_call(self, req: dict) -> Any:
        """Call a method.  With `set` (an `op_set` request's attr and value),
        write the parameters first and read them back, in the same round
        trip: if they did not stick the method is not called and the answer
        is {"value": None, "lost": what `op_set` says}."""
        obj = self.instances[req["handle"]]
        if req.get("set") is not None:
            lost = self.op_set(dict(req["set"], handle=req["handle"], verify=True))
            if lost:
                return {"value": None, "lost": lost}
        if "seed" in req:
            self._seed(int(req["seed"]))
        method = getattr(obj, req["method"])
        args = [self._arg(a) for a in req.get("args", [])]
        counts = self._count_calls(obj, req.get("count") or [])
        try:
            value = method(*args)
        finally:
            for name in counts:
                obj.__dict__.pop(name, None)
        out = {"value": encode(value, self.np)}
        if counts:
            out["calls"] = dict(counts)
        return out

    @staticmethod
    def _count_calls(obj: Any, names: list) -> dict:
        """Count the calls to other methods of the instance during one call
        (a back_propagate that calls loss 2P times is finite differences).
        A fact for the instructor, never a verdict: an instance that takes
        no attributes (slots) is simply not counted."""
        counts: dict[str, int] = {}
        for name in names:
            bound = getattr(obj, name, None)
            if not callable(bound) or name in getattr(obj, "__dict__", {"": 0}) or not hasattr(obj, "__dict__"):
                continue

            def counting(*args: Any, _bound: Any = bound, _name: str = name, **kwargs: Any) -> Any:
                counts[_name] += 1
                return _bound(*args, **kwargs)

            counts[name] = 0
            obj.__dict__[name] = counting
        return counts

    def op_steps(self, req: dict) -> Any:
        """Call a method n times; snapshot an attribute every `every` calls
        (and before the first).  One round trip for a whole trajectory."""
        obj = self.instances[req["handle"]]
        method = getattr(obj, req["method"])
        args = [self._arg(a) for a in req.get("args", [])]
        attr, every = req["snapshot"], int(req.get("every", 1))
        extra = {int(k) for k in req.get("at") or []}   # spot-check positions besides every `every`
        snaps = [encode(getattr(obj, attr, None), self.np)]
        positions = [0]
        for i in range(int(req["n"])):
            method(*args)
            if (i + 1) % every == 0 or i + 1 in extra:
                snaps.append(encode(getattr(obj, attr, None), self.np))
                positions.append(i + 1)
        return {"snapshots": snaps, "positions": positions}

    def op_loss_at(self, req: dict) -> Any:
        """Evaluations of the student's scalar method at points the grader
        chose, parameters restored after each.  The grader takes the finite
        differences itself, so no finite-difference formula runs in this
        process for the student's code to find and replace.

        `base`: the parameters (wire), or None for those the grader just set
        (checked by digest: {"stale": true} when the student's code moved
        them), or "kept" for the base of the previous request.  Without
        `points` the method's value at the base itself is the answer.  With
        `points` (one round trip for a whole sweep), a list of {"delta",
        "unit": [key, flat index]} or {"delta", "direction": i} (an index into
        `directions`, wire dicts): the answer is {"values": [one per point]}."""
        np = self.np
        obj = self.instances[req["handle"]]
        method = getattr(obj, req["method"])
        args = [self._arg(a) for a in req.get("args", [])]
        base = req.get("base")
        if base == "kept":
            base = self._kept["base"]
        elif base is None:
            current = getattr(obj, req["attr"])
            base = {k: np.array(current[k], dtype=np.float64) for k in req["keys"]}
            if parameters_digest(base, req["keys"]) != req["digest"]:
                return {"stale": True}
        else:
            base = {k: np.asarray(v, dtype=np.float64) for k, v in self._arg(base).items()}
        self._kept["base"] = base
        if req.get("points") is None:
            return self._loss_at(obj, method, args, req["attr"], base, 0.0, None, None)
        directions = [self._arg(d) for d in req.get("directions") or []]
        return {"values": [self._loss_at(obj, method, args, req["attr"], base, float(point.get("delta", 0.0)),
                                         point.get("unit"),
                                         directions[int(point["direction"])] if "direction" in point else None)
                           for point in req["points"]]}

    def _loss_at(self, obj: Any, method: Any, args: list, attr: str, base: dict, delta: float, unit: Any,
                 direction: Any) -> Any:
        """The method's value at one point (see `op_loss_at`), base restored."""
        if unit is not None:
            key, index = unit
            point = self._with(base, key, int(index), delta)
        elif direction is not None:
            point = {k: base[k] + delta * direction[k] if k in direction else base[k].copy() for k in base}
        else:
            point = {k: v.copy() for k, v in base.items()}
        self._set_attr(obj, attr, point)
        try:
            return encode(method(*args), self.np)
        finally:
            self._set_attr(obj, attr, base)

    def op_aliases(self, req: dict) -> Any:
        """Attributes that share memory with the parameters: a stored
        "previous iterate" that is really the current one."""
        np = self.np
        obj = self.instances[req["handle"]]
        target = getattr(obj, req["attr"], None)
        arrays = [v for v in target.values() if isinstance(v, np.ndarray)] if isinstance(target, Mapping) else []
        found = []
        glued = isinstance(obj, Glued)
        owner = obj.net if glued else obj   # under glue: the student's object behind the view
        for name, value in sorted(getattr(owner, "__dict__", {}).items()):
            if name == req["attr"] or glued and value is target:   # (the glue hands out the student's own storage)
                continue
            if value is target and target is not None:
                found.append(name)
                continue
            values = list(value.values()) if isinstance(value, Mapping) else [value]
            if any(isinstance(v, np.ndarray) and any(np.shares_memory(v, a) for a in arrays) for v in values):
                found.append(name)
        return found

    def handle(self, req: dict) -> dict:
        """The reply to one request, carrying the request's id (the grader
        refuses an answer that does not echo it)."""
        reply = self._handle(req)
        reply["id"] = req.get("id")
        return reply

    def _handle(self, req: dict) -> dict:
        op = getattr(self, "op_" + str(req.get("op")), None)
        started = time.perf_counter()
        if op is None:
            return {"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {req.get('op')!r}"}}
        try:
            value = op(req)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt included: report, stay alive
            return {"ok": False, "error": describe_exception(exc, self.student_files),
                    "seconds": time.perf_counter() - started}
        return {"ok": True, "value": value, "seconds": time.perf_counter() - started}


class Glued:
    """A student's net seen through an instructor's glue (grader/glue.py):
    the canonical operations as methods, the parameters as the `parameters`
    property (setting them also resets the optimizer, when the glue says
    how), so every request of the protocol works on it unchanged."""

    __slots__ = ("net",)
    glue: dict = {}
    module_name = "nn"

    def __init__(self, net: Any) -> None:
        self.net = net

    @property
    def parameters(self) -> Any:
        return self.glue["get_parameters"](self.net)

    @parameters.setter
    def parameters(self, value: Any) -> None:
        self.glue["set_parameters"](self.net, value)
        if callable(self.glue.get("reset_optimizer")):
            self.glue["reset_optimizer"](self.net)


#: the glue's functions the view offers as methods (the others are construct and the parameters property)
GLUE_METHODS = ("probabilities", "loss", "gradient", "step", "train")
#: the file name glue frames carry (kept out of the student's line in error reports)
GLUE_FILE = "<nngrade glue {name}>"


def load_glue(wire: dict, module: Any) -> type:
    """Run an instructor's glue (name, source) in a module of its own, and
    build the view class over its functions."""
    name = str(wire.get("name", "glue"))
    code = compile(str(wire["source"]), GLUE_FILE.format(name=name), "exec")
    glue_module = types.ModuleType("nngrade_glue")
    glue_module.__builtins__ = __builtins__
    exec(code, glue_module.__dict__)  # noqa: S102 -- instructor code, run where the student's runs
    functions = {k: v for k, v in vars(glue_module).items() if callable(v) and not k.startswith("_")}
    namespace: dict[str, Any] = {"__slots__": (), "glue": functions, "module_name": module.__name__}
    for op in GLUE_METHODS:
        if callable(functions.get(op)):
            namespace[op] = _glued_method(functions[op])
    return type("Glued", (Glued,), namespace)


def _glued_method(function: Any) -> Any:
    def method(self: Glued, *args: Any) -> Any:
        return function(self.net, *args)
    method.__name__ = function.__name__
    return method


def _class_attribute(cls: type, name: str) -> Any:
    """`name` as defined on the class (a property, a descriptor) or None."""
    for klass in getattr(cls, "__mro__", ()):
        if name in vars(klass):
            return vars(klass)[name]
    return None


def _read_only(descriptor: Any) -> bool:
    """A property without a setter."""
    return isinstance(descriptor, property) and descriptor.fset is None


def _like(current: Any, value: dict) -> Any:
    """`value` in the container type the student uses (an OrderedDict, their
    own Mapping class) when that type can be built from a dict; else a dict."""
    kind = type(current)
    if isinstance(current, Mapping) and kind is not dict:
        try:
            built = kind(value)
            if isinstance(built, Mapping) and set(built) == set(value):
                return built
        except Exception:
            pass
    return value


def describe_exception(exc: BaseException, student_files: Any = ()) -> dict:
    """Name the error and the student's line, without the worker's frames.
    The line is the innermost one in the student's own files when known
    (not one inside NumPy or the standard library)."""
    tb = traceback.extract_tb(exc.__traceback__)
    student = [f for f in tb if not f.filename.endswith("worker.py") and not f.filename.startswith("<nngrade glue")]
    own = [f for f in student if f.filename in student_files
           or any(f.filename.startswith(d) for d in student_files if d.endswith(os.sep))]
    line = None
    if isinstance(exc, SyntaxError):
        line = exc.lineno
    elif own:
        line = own[-1].lineno
    elif student:
        line = student[-1].lineno
    try:
        message = str(exc)[:MAX_REPR]
    except Exception:
        message = "<unprintable>"
    text = "".join(traceback.format_list(student[-5:])) if student else ""
    return {"type": type(exc).__name__, "message": message, "line": line, "traceback": text[-2000:]}


def _seed_default_rng(np: Any, seed: int) -> None:
    """Make unseeded ``np.random.default_rng()`` calls deterministic, so the
    same submission gives the same result on every run."""
    original = getattr(_seed_default_rng, "original", None) or np.random.default_rng
    _seed_default_rng.original = original  # type: ignore[attr-defined]
    counter = {"n": 0}

    def default_rng(seed_arg: Any = None) -> Any:
        if seed_arg is None:
            counter["n"] += 1
            return original([seed, counter["n"]])
        return original(seed_arg)

    np.random.default_rng = default_rng


def _flush_output() -> None:
    """Push the student's buffered prints to the output file after every
    request, so they survive a later crash (a full file is the grader's
    business, not an error here)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def apply_rlimits(wanted: dict) -> list[str]:
    """Set `wanted` (name -> limit or [soft, hard], as `WorkerLimits.rlimits`)
    on this process, before any student code runs: how a plain-subprocess
    worker is limited (no launcher sets them).  Best effort: returns the
    names this platform has and accepted; none without `resource`."""
    try:
        import resource
    except ImportError:   # Windows
        return []
    done = []
    for name, value in wanted.items():
        number = getattr(resource, "RLIMIT_" + name, None)
        soft, hard = (value, value) if isinstance(value, int) else value
        if number is None:
            continue
        try:
            resource.setrlimit(number, (soft, hard))
        except (ValueError, OSError):
            continue
        done.append(name)
    return done


def stdio_channel() -> tuple[int, int]:
    """The grader's channel on this process's stdin and stdout (where no
    descriptor can be passed: Windows), made safe from the student's code:
    the protocol keeps private duplicates of descriptors 0 and 1; then 0
    reads nothing (a student's input() or os.read(0) never eats a request)
    and 1 is pointed at 2, the grader's capture file, so every print,
    sys.stdout.write or os.write(1, ...) lands in the student's output and
    never in the channel."""
    requests, replies = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    if hasattr(os, "O_BINARY"):   # Windows: no newline translation on the channel
        import msvcrt
        for fd in (requests, replies):
            msvcrt.setmode(fd, os.O_BINARY)
    return requests, replies


def parse_arguments(args: list) -> tuple[int | None, int | None, dict]:
    """``REQ_FD RESP_FD`` (descriptors passed by the grader) or ``--stdio``
    (None, None), then optionally ``--rlimits JSON``."""
    rlimits: dict = {}
    if "--rlimits" in args:
        at = args.index("--rlimits")
        rlimits = json.loads(args[at + 1])
        args = args[:at] + args[at + 2:]
    if args[:1] == ["--stdio"]:
        return None, None, rlimits
    return int(args[0]), int(args[1]), rlimits


def main() -> int:
    req_fd, resp_fd, rlimits = parse_arguments(sys.argv[1:])
    if rlimits:
        apply_rlimits(rlimits)
    if req_fd is None or resp_fd is None:
        req_fd, resp_fd = stdio_channel()
    for fd in (req_fd, resp_fd):  # not inherited by anything the student runs
        os.set_inheritable(fd, False)
    requests = os.fdopen(req_fd, "rb", buffering=0)
    responses = os.fdopen(resp_fd, "wb", buffering=0)
    os.environ["MPLBACKEND"] = "Agg"
    import numpy as np  # imported here so that a broken numpy is reported, not fatal
    worker = Worker(np)
    sys.stdin = io.StringIO("")
    owner = os.getpid()
    while True:
        req = read_frame(requests)
        if req is None:
            return 0
        reply = worker.handle(req)
        if os.getpid() != owner:  # a process the student forked came back here: it must not answer
            os._exit(0)
        _flush_output()
        try:
            write_frame(responses, reply)
        except (TypeError, ValueError) as exc:
            write_frame(responses, {"ok": False, "error": {"type": "EncodingError", "message": str(exc)[:MAX_REPR]},
                                    "id": req.get("id")})


if __name__ == "__main__":
    sys.exit(main())
