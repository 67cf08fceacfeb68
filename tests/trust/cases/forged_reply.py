# A submission that patches the worker it runs in: the reply to one kind of
# request (FORGED_OP) carries FORGED_VALUE instead of the real answer, hoping
# the grader's own code trips on it (a grader failure is left out of the total).
import sys as _sys

FORGED_OP, FORGED_VALUE = "__OP__", __VALUE__


def _forge():
    for mod in list(_sys.modules.values()):
        for obj in list(getattr(mod, "__dict__", {}).values()):
            if isinstance(obj, type) and hasattr(obj, "op_call") and hasattr(obj, "_handle"):
                original = obj._handle

                def _handle(self, req, _original=original):
                    reply = _original(self, req)
                    if req.get("op") == FORGED_OP and reply.get("ok"):
                        reply["value"] = FORGED_VALUE
                    return reply

                obj._handle = _handle
                return


_forge()
