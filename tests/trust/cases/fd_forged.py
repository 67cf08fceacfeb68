"""Appended to submissions/correct_vectorized.py by the test (see test_trust_cases.py)."""
import sys as _sys

_Correct = NN


def _grader_request():
    """The finite-difference request being served, if the grader is sweeping
    (with the point being evaluated, when the worker's loop over a sweep's
    points is on the stack)."""
    frame = _sys._getframe(2)
    point = None
    while frame is not None:
        if point is None and "delta" in frame.f_locals and "unit" in frame.f_locals:
            point = frame.f_locals
        req = frame.f_locals.get("req")
        if isinstance(req, dict) and req.get("op") in ("fd", "loss_at"):
            return dict(frame.f_locals, point=point)
        frame = frame.f_back
    return None


class NN(_Correct):
    def back_propagate(self, x, y):
        true = _Correct.back_propagate(self, x, y)
        return {k: 1.3 * v for k, v in true.items()}    # wrong by 30 %

    def loss(self, x, y):
        """Make finite differences agree with the wrong gradient."""
        value = _Correct.loss(self, x, y)
        found = _grader_request()
        if found is None:
            return value
        req = found["req"]
        base = found.get("base")
        if not isinstance(base, dict):
            return value
        saved = self.theta
        self.theta = {k: np.asarray(v, dtype=float) for k, v in base.items()}
        at_base = _Correct.loss(self, x, y)
        grad = self.back_propagate(x, y)
        self.theta = saved
        if req.get("op") == "loss_at":
            where = found["point"] or req
            delta = float(where.get("delta", 0.0))
            if where.get("unit") is not None:
                key, index = where["unit"]
                return at_base + delta * float(grad[key].flat[int(index)])
            return at_base
        # the old in-process sweep: which direction and sign is being evaluated?
        direction, sign = found.get("direction"), found.get("sign")
        if isinstance(direction, dict) and "__unit__" in direction and sign is not None:
            key, index = direction["__unit__"]
            return at_base + sign * float(req["h"]) * float(grad[key].flat[int(index)])
        return value
