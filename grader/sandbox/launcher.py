"""Sets up one worker's sandbox, then runs the worker as an unprivileged user.

Standalone (standard library only, no grader imports): the client runs
``python -I -S -B -c BOOT`` with a pipe as standard input holding a
`marshal` dump of (this file's source, the config dict) -- so no
``/proc/*/cmdline`` shows a path or a setting (`limits.launcher_input`) --
usually as the first process of fresh namespaces made by ``unshare --net
--pid --mount --ipc --uts --fork --kill-child``, so it is PID 1 there and
still root.  ``python -I -S -B launcher.py`` reads the same dump (without
the source) from its standard input.  Steps, all driven by the config that
`grader.sandbox.limits.launch_command` writes:

0. with cgroups in the config: join them (CPU accounting, and the
   submission's memory, pids and CPU-weight limits: ``cpuclock.py``), so
   every process started from here on is counted and limited, then a
   cgroup namespace of its own;
1. mounts (inside the private mount namespace only; the host never sees
   them): with ``root``, an allow-list root built from nothing (a tmpfs
   holding read-only binds of the interpreter, the standard library, the C
   library's folder and the allowed packages, a minimal ``/dev``, a
   private size-limited ``/tmp`` holding a fresh copy of the staged worker
   folder, a fresh ``/proc``), entered with ``pivot_root``, the old root
   detached; else (a fallback level) empty tmpfs over a deny-list of
   hidden paths;
2. fork: the child starts a new session, closes every other descriptor,
   sets the rlimits, drops to the worker's uid/gid (no supplementary groups,
   no new privileges) and execs the worker;
3. the parent stays as a tiny init: it reaps every process, and when the
   worker ends it writes ``exit N`` or ``signal N`` to the status descriptor
   and exits -- which, as PID 1, takes every other process of the namespace
   with it (forked children, fork bombs, orphans).

Any failure before the exec is reported on stderr (the student's output
file) and with exit status 71, so the grader sees a crash, never a hang.

The same file is also the **zygote** (`serve`, started by
``grader/sandbox/zygote.py`` with ``{"zygote": ...}`` as its config): a
root process of the grader's that imports NumPy and compiles the worker
once, then, for every worker start, forks a child that does exactly what
``unshare --net --pid --mount --ipc --uts --fork --kill-child`` does
(`spawn`: new namespaces, then a forked PID 1 that runs `main` with the
launcher config the grader would have written on stdin).  The worker then
starts with NumPy already imported: a fork instead of an interpreter
start-up, with the same namespaces, root, cgroups, uid and rlimits.  The
zygote never runs student code and never holds anything of the grader's
but this file, the worker's source and the per-start configs.
"""

from __future__ import annotations

import ctypes
import marshal
import os
import resource
import sys

import _signal as signal  # the C module: `signal` would import enum (milliseconds)

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
CLONE_NEWCGROUP = 0x02000000
#: util-linux unshare's flags (the level's `unshare` tuple) as clone(2) flags
CLONE_FLAGS = {"--net": 0x40000000, "--pid": 0x20000000, "--mount": 0x00020000, "--ipc": 0x08000000,
               "--uts": 0x04000000, "--user": 0x10000000}
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
LINUX_CAPABILITY_VERSION_3 = 0x20080522
SETUP_FAILED = 71

RLIMITS = {
    "AS": resource.RLIMIT_AS,
    "CPU": resource.RLIMIT_CPU,
    "FSIZE": resource.RLIMIT_FSIZE,
    "NOFILE": resource.RLIMIT_NOFILE,
    "CORE": resource.RLIMIT_CORE,
    "NPROC": resource.RLIMIT_NPROC,
}

_libc = None


def libc():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = (lambda s: s.encode() if s is not None else None)
    _check(libc().mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


def _under(path: str, folder: str) -> bool:
    return path != folder and path.startswith(folder.rstrip("/") + "/")


def _depth(path: str) -> int:
    return len([p for p in path.split("/") if p])


# --------------------------------------------------------------------------
# mounts
# --------------------------------------------------------------------------

def cover(target: str, mode: str, size_mb: int, keep: list[str]) -> None:
    """An empty tmpfs over `target`, with the `keep` paths below it bound
    back (read-only) at the same place."""
    if os.path.islink(target) or not os.path.isdir(target):
        return
    kept = []
    for path in keep:
        if _under(path, target) and os.path.exists(path):
            kept.append((path, os.open(path, os.O_PATH | os.O_CLOEXEC)))
    try:
        mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV,
              f"mode={mode},size={max(1, int(size_mb))}m,nr_inodes=16384")
        for path, fd in sorted(kept, key=lambda item: _depth(item[0])):
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(path, mode=0o755, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
                open(path, "a").close()
            mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
            try:  # best effort: some parents lock flags a remount may not drop
                mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
            except OSError:
                pass
    finally:
        for _, fd in kept:
            os.close(fd)


def copy_tree(source: str, target: str) -> None:
    """Copy a folder's files, folders and symlinks (not following links),
    keeping permission bits; no shutil, which costs an import."""
    with os.scandir(source) as entries:
        for entry in entries:
            src, dst = os.path.join(source, entry.name), os.path.join(target, entry.name)
            if entry.is_symlink():
                os.symlink(os.readlink(src), dst)
            elif entry.is_dir():
                os.mkdir(dst, 0o755)
                copy_tree(src, dst)
                os.chmod(dst, entry.stat().st_mode & 0o7777)
            elif entry.is_file():
                mode = entry.stat().st_mode & 0o777
                fin = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
                fout = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
                try:
                    size = os.fstat(fin).st_size
                    while size > 0:
                        sent = os.sendfile(fout, fin, None, min(size, 1 << 30))
                        if sent == 0:
                            break
                        size -= sent
                finally:
                    os.close(fin)
                    os.close(fout)
                os.chmod(dst, mode)


def setup_mounts(cfg: dict) -> None:
    try:
        mount(None, "/", None, MS_REC | MS_PRIVATE)
    except OSError:
        pass  # unshare already made the tree private
    stage_fd = os.open(cfg["stage"], os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    keep = [os.path.realpath(p) for p in cfg.get("keep", [])]
    targets = []
    for path, mode, size in cfg.get("private", []):
        targets.append((os.path.realpath(path), mode, size))
    for path in cfg.get("hide", []):
        targets.append((os.path.realpath(path), "755", 1))
    seen = set()
    for path, mode, size in sorted(targets, key=lambda t: _depth(t[0])):
        if path in seen or path in keep or path == "/":
            continue
        seen.add(path)
        cover(path, mode, size, keep)
    inner = cfg["inner"]
    os.makedirs(inner, mode=0o755, exist_ok=True)
    copy_tree(f"/proc/self/fd/{stage_fd}", inner)
    os.chmod(inner, 0o1777)  # the worker may create files; it cannot remove the grader's copies
    os.close(stage_fd)
    if cfg.get("proc"):
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def _bind(source: str, target: str, flags: int) -> None:
    if os.path.isdir(source):
        os.makedirs(target, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        if not os.path.exists(target):
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))
    mount(source, target, None, MS_BIND | MS_REC)
    mount(None, target, None, MS_REMOUNT | MS_BIND | flags)


def setup_root(cfg: dict) -> None:
    """Build the worker's root from nothing and enter it (see the module
    docstring); the host's root is detached, so nothing else of the disk,
    no host socket and no other /proc exist for the worker.  With
    ``template`` (a zygote's, see `build_template`), the read-only part is
    one recursive bind of that tree instead of 60-odd mounts."""
    try:
        mount(None, "/", None, MS_REC | MS_PRIVATE)
    except OSError:
        pass
    stage_fd = os.open(cfg["stage"], os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    new = cfg["stage"].rstrip("/")  # the new root is mounted over the staging folder (still read via stage_fd)
    if cfg.get("template"):
        mount(cfg["template"], new, None, MS_BIND | MS_REC)
        _private_mounts(new, cfg)
    else:
        mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=4m,nr_inodes=16384")
        # the private /tmp first: an interpreter or a venv living under /tmp is bound inside it
        os.makedirs(new + "/tmp", mode=0o755, exist_ok=True)
        mount("tmpfs", new + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
              f"mode=1777,size={max(1, int(cfg['tmp_mb']))}m,nr_inodes=16384")
        populate_root(new, cfg)
        _private_mounts(new, cfg, tmp=False)
    inner = new + cfg["inner"]
    os.makedirs(inner, mode=0o755, exist_ok=True)
    copy_tree(f"/proc/self/fd/{stage_fd}", inner)
    os.chmod(inner, 0o1777)
    os.close(stage_fd)
    mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.chdir(new)
    number = SYS_PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise OSError(f"pivot_root: unknown machine {os.uname().machine}")
    _check(libc().syscall(number, b".", b"."), "pivot_root")
    _check(libc().umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")
    mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def populate_root(new: str, cfg: dict) -> None:
    """The read-only part of a worker's root under `new` (a fresh tmpfs):
    the binds, rebuilt symlinks, empty covers, devices, and the mount
    points of the per-worker part (/tmp, /dev/shm, /proc)."""
    ro = MS_RDONLY | MS_NOSUID | MS_NODEV
    items = [(path, "bind") for path in cfg["binds"]] + [(path, "empty") for path in cfg["empty"]]
    for path, kind in sorted(items, key=lambda item: (_depth(item[0]), item[1])):
        target = new + path
        if kind == "bind":
            _bind(path, target, ro)
        else:
            if os.path.isdir(target):
                mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m,nr_inodes=1024")
    for link, dest in sorted(cfg["links"], key=lambda item: _depth(item[0])):
        target = new + link
        if os.path.lexists(target):
            continue
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        os.symlink(dest, target)
    for path in cfg["empty"]:  # bound packages are in place: now read-only
        try:
            mount(None, new + path, None, MS_REMOUNT | MS_BIND | ro)
        except OSError:
            pass
    for device in cfg["devices"]:
        _bind(device, new + device, MS_NOSUID)
    for name, dest in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                       ("stderr", "/proc/self/fd/2")):
        os.symlink(dest, f"{new}/dev/{name}")
    for folder in ("/tmp", "/dev/shm", "/proc"):
        os.makedirs(new + folder, mode=0o755, exist_ok=True)


def _private_mounts(new: str, cfg: dict, tmp: bool = True) -> None:
    """The per-worker writable part: a size-limited /tmp and /dev/shm."""
    if tmp:
        mount("tmpfs", new + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
              f"mode=1777,size={max(1, int(cfg['tmp_mb']))}m,nr_inodes=16384")
    mount("tmpfs", new + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
          f"mode=1777,size={max(1, int(cfg['shm_mb']))}m,nr_inodes=4096")


#: where per-worker mounts go: a template cannot hold binds below them
PER_WORKER = ("/tmp", "/dev/shm", "/proc")


def build_template(cfg: dict, path: str) -> bool:
    """In the zygote's own mount namespace: the read-only part of a root
    (`populate_root`) at `path`, read-only, shared by the roots of the
    workers it forks (each binds it recursively, then mounts its own /tmp,
    /dev/shm and /proc on top).  False when the plan binds something below
    a per-worker mount point (a venv under /tmp, say): then every worker
    builds its root itself."""
    paths = list(cfg["binds"]) + [link for link, _ in cfg["links"]] + list(cfg["empty"])
    if any(p == f or _under(p, f) for p in paths for f in PER_WORKER):
        return False
    os.makedirs(path, mode=0o700)
    mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=4m,nr_inodes=16384")
    populate_root(path, cfg)
    mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    return True


# --------------------------------------------------------------------------
# the worker's process
# --------------------------------------------------------------------------

def close_other_fds(keep: set[int]) -> None:
    try:
        fds = [int(n) for n in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def drop_capabilities() -> None:
    """For a worker that keeps uid 0 (in a user namespace, or an
    unprivileged grader): empty the bounding set, so no exec can regain
    capabilities, then clear every set -- without CAP_SYS_ADMIN it cannot
    unmount what hides the grader's files.  Best effort: an unprivileged
    process has nothing to drop."""
    lib = libc()
    for cap in range(64):
        if lib.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == 22:  # EINVAL: no such cap
            break
    header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    lib.capset(header, data)


def renumber_fds(keep: list[int], status_fd: int | None, argv: list[str]) -> tuple[int | None, list[str]]:
    """Give the worker's descriptors the numbers 3, 4, ... (whatever the
    grader's were), so the worker's argv is the same under `check` and
    `batch`; the trailing argv entries naming them are rewritten.  The
    status descriptor moves above them (it stays close-on-exec)."""
    base = max(keep + ([status_fd] if status_fd is not None else [])) + 1
    if status_fd is not None:
        os.dup2(status_fd, base, inheritable=False)
        os.close(status_fd)
        status_fd, base = base, base + 1
    high = []
    for i, fd in enumerate(keep):
        os.dup2(fd, base + i, inheritable=False)
        os.close(fd)
        high.append(base + i)
    for i, fd in enumerate(high):
        os.dup2(fd, 3 + i, inheritable=True)
        os.close(fd)
    tail = len(argv) - len(keep)
    out = list(argv)
    for i, fd in enumerate(keep):
        for j in range(max(1, tail), len(out)):
            if out[j] == str(fd):
                out[j] = str(3 + i)
                break
    return status_fd, out


def become_worker(cfg: dict, status_fd: int | None) -> None:
    """In the child: never returns (exec, or _exit on failure).  The status
    descriptor is close-on-exec: the worker never holds it."""
    try:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        if cfg.get("setsid"):
            os.setsid()
        null = os.open("/dev/null", os.O_RDONLY)  # stdin held the config: the worker gets nothing
        os.dup2(null, 0)
        os.close(null)
        keep_list = [int(fd) for fd in cfg["keep_fds"]]
        close_other_fds(set(keep_list) | ({status_fd} if status_fd is not None else set()))
        argv = list(cfg["argv"])
        if cfg.get("renumber") and keep_list:
            status_fd, argv = renumber_fds(keep_list, status_fd, argv)
            keep_list = list(range(3, 3 + len(keep_list)))
        for fd in keep_list:
            os.set_inheritable(fd, True)
        for name, value in cfg["rlimits"].items():
            soft, hard = (value, value) if isinstance(value, int) else value
            try:
                resource.setrlimit(RLIMITS[name], (soft, hard))
            except (ValueError, OSError):
                if name != "NPROC":  # not every system lets us set it; the others are essential
                    raise
        uid = cfg.get("uid")
        if uid is not None:
            os.setgroups([])
            os.setgid(int(cfg.get("gid", uid)))
            os.setuid(int(uid))
            if os.getuid() != int(uid) or os.geteuid() != int(uid):
                raise OSError("could not drop privileges")
        else:
            drop_capabilities()
        _check(libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        os.chdir(cfg["cwd"])
        os.umask(0o022)
        if not cfg.get("run_here"):
            os.execv(argv[0], argv)
        if not PRELOADED:
            import site

            site.main()  # this interpreter started with -S; the worker needs site-packages
        if status_fd is not None:
            os.close(status_fd)
    except BaseException as exc:  # noqa: BLE001 -- report and leave, never fall through
        fail_setup("cannot start the worker", exc, status_fd)
    # Run the worker script in this very process: the same as exec'ing
    # `python -I -B script args` (isolated, no bytecode, the script's folder
    # not on sys.path) minus one interpreter start-up.
    script = next(a for a in argv[1:] if not a.startswith("-"))
    sys.argv = argv[argv.index(script):]
    if PRELOADED:
        run_preloaded(script)
    import runpy

    runpy.run_path(script, run_name="__main__")
    sys.exit(0)


def run_preloaded(script: str) -> None:
    """In a worker forked from the zygote: run `script` as ``__main__``,
    as `runpy.run_path` would, with the code the zygote compiled when the
    script is the worker it preloaded.  The zygote's import path is cut to
    what `site` finds in this root (an editable install's folders, say, are
    gone), and the import caches, filled on the host's disk, are dropped."""
    import builtins
    import importlib
    import types

    import site

    sys.path[:] = PRELOADED["base_path"]  # as the interpreter set it, before site-packages
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
    site.main()  # site-packages and .pth files as this root has them: the exec path's sys.path
    with open(script, "rb") as handle:
        text = handle.read()
    code = PRELOADED["code"] if text == PRELOADED["source"] else compile(text, script, "exec")
    module = types.ModuleType("__main__")
    module.__dict__.update({"__file__": script, "__cached__": None, "__loader__": None, "__package__": None,
                            "__spec__": None, "__builtins__": builtins})
    sys.modules["__main__"] = module
    exec(code, module.__dict__)
    sys.exit(0)


def fail_setup(what: str, exc: BaseException, status_fd: int | None) -> None:
    """Report a failure before the worker runs (on stderr: the student's
    output file; ``setup`` on the status descriptor) and leave with status
    71: never fall through into code meant for a set-up sandbox."""
    try:
        os.write(2, f"nngrade sandbox: {what}: {exc}\n".encode())
        if status_fd is not None:
            os.write(status_fd, b"setup ")
    finally:
        os._exit(SETUP_FAILED)


def join_cgroup(tasks: str) -> None:
    """Move this process into one of the worker's groups (cgroup v1, made by
    the grader); every process it starts inherits it.  This process is
    single-threaded (forked, or a fresh interpreter), so writing "0" (this
    thread) to the group's ``tasks`` file moves all of it -- and, unlike a
    pid written to ``cgroup.procs``, does not take the kernel's
    thread-group lock, whose write side waits for an RCU grace period:
    0.3-20 ms per start, measured (docs/DESIGN.md, "Worker start")."""
    if tasks.endswith("/tasks") and len(os.listdir("/proc/self/task")) != 1:
        tasks = tasks[:-len("tasks")] + "cgroup.procs"   # (never here: but a thread must not be left out)
    fd = os.open(tasks, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, b"0" if tasks.endswith("/tasks") else str(os.getpid()).encode())
    finally:
        os.close(fd)


def supervise(child: int, status_fd: int | None) -> int:
    """Reap everything until the worker ends; report how it ended."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    status = None
    while status is None:
        try:
            pid, raw = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child:
            status = raw
    if status is None:
        text, code = "exit 70", 70
    elif os.WIFSIGNALED(status):
        text, code = f"signal {os.WTERMSIG(status)}", 128 + os.WTERMSIG(status)
    else:
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70
        text = f"exit {code}"
    if status_fd is not None:
        try:
            os.write(status_fd, text.encode())
        except OSError:
            pass
    return code


def read_config() -> dict:
    """The config: given by the boot code (`CONFIG`), else a marshal dump
    on standard input."""
    given = globals().get("CONFIG")
    if given is not None:
        return given
    data = b""
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            break
        data += chunk
    return marshal.loads(data)


def main(cfg: dict | None = None) -> None:
    cfg = read_config() if cfg is None else cfg
    if cfg.get("zygote"):
        serve(cfg["zygote"])
    status_fd = cfg.get("status_fd")
    if status_fd is not None:
        status_fd = int(status_fd)
        os.set_inheritable(int(status_fd), False)
    try:
        groups = cfg.get("cgroup_join")
        for path in ([groups] if isinstance(groups, str) else groups or []):
            join_cgroup(path)  # first: everything from here on is counted and limited (see cpuclock.py)
        if cfg.get("cgroupns"):
            _check(libc().unshare(CLONE_NEWCGROUP), "unshare(cgroup)")
        if cfg.get("hostname"):
            name = cfg["hostname"].encode()
            _check(libc().sethostname(name, len(name)), "sethostname")
        if cfg.get("root"):
            setup_root(cfg["root"])
        elif cfg.get("mounts"):
            setup_mounts(cfg["mounts"])
    except BaseException as exc:  # noqa: BLE001
        fail_setup("cannot set up the sandbox", exc, status_fd)
    child = os.fork()
    if child == 0:
        become_worker(cfg, status_fd)
    for fd in cfg["keep_fds"]:  # the channel is the worker's alone
        try:
            os.close(int(fd))
        except OSError:
            pass
    os._exit(supervise(child, status_fd))


# --------------------------------------------------------------------------
# the zygote
# --------------------------------------------------------------------------

#: what the zygote prepared for its workers: {"source": worker bytes, "code": compiled}
PRELOADED: dict = {}


def serve(zcfg: dict) -> None:
    """The zygote's loop (never returns).  One request per message on the
    socket (descriptor ``zcfg["socket"]``, a SOCK_SEQPACKET pair with the
    grader): a marshal dump of a launcher config plus, as SCM_RIGHTS, the
    worker's output file, its status descriptor and its channel.  Reply:
    the child's pid as text plus a pidfd of it (the grader is not its
    parent).  End of file on the socket (the grader is gone) ends the
    zygote, and with it, through PR_SET_PDEATHSIG, every worker it started."""
    import array
    import gc
    import select
    import site
    import socket

    sock = socket.socket(fileno=int(zcfg["socket"]))
    PRELOADED["base_path"] = list(sys.path)
    templates = zcfg.get("templates")
    if templates:  # templates live in a mount namespace of the zygote's own, never on the host
        try:
            _check(libc().unshare(CLONE_FLAGS["--mount"]), "unshare(mount)")
            mount(None, "/", None, MS_REC | MS_PRIVATE)
        except OSError:
            templates = None
    site.main()
    for name in zcfg.get("preload", ()):
        __import__(name)
    source = zcfg["worker_source"]
    code = compile(source, zcfg["worker_path"], "exec")
    exec(code, {"__name__": "nngrade_preload", "__file__": zcfg["worker_path"]})  # its imports, once
    PRELOADED.update(source=source, code=code)
    gc.collect()
    gc.freeze()  # what is here now is shared by every worker: keep the collector off its pages
    sock.sendall(b"ready")
    fd_bytes = array.array("i").itemsize
    try:
        spare: tuple[int, socket.socket] | None = _prefork(sock)
    except OSError:
        spare = None
    while True:
        ready, _, _ = select.select([sock], [], [], 1.0)
        _reap()
        if not ready:
            continue
        try:
            data, ancdata, _, _ = sock.recvmsg(1 << 22, socket.CMSG_SPACE(8 * fd_bytes))
        except InterruptedError:
            continue
        except OSError:
            break
        if not data:
            break
        fds = array.array("i")
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[:len(payload) - len(payload) % fd_bytes])
        try:
            cfg = marshal.loads(data)
            if templates and cfg.get("root"):
                cfg["root"] = _with_template(cfg["root"], templates)
            if spare is None:
                spare = _prefork(sock)
            pid, channel = spare
            spare = None
            try:
                channel.sendmsg([marshal.dumps(cfg)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
            finally:
                channel.close()   # (unsent: the child gets end of file and leaves)
        except BaseException as exc:  # noqa: BLE001 -- answer, never die on one request
            for fd in fds:
                os.close(fd)
            sock.sendall(f"error {type(exc).__name__}: {exc}".encode())
            continue
        for fd in fds:
            os.close(fd)
        pidfd = os.pidfd_open(pid)
        try:
            sock.sendmsg([str(pid).encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [pidfd]))])
        finally:
            os.close(pidfd)
        try:
            spare = _prefork(sock)   # the next worker's fork, done now, off its start's path
        except OSError:
            spare = None
    if spare is not None:
        spare[1].close()   # end of file: the unused child leaves
    for path in _TEMPLATES.values():  # the host keeps only empty mount points: remove them
        if path:
            try:
                libc().umount2(path.encode(), MNT_DETACH)
                os.rmdir(path)
            except OSError:
                pass
    if templates:
        try:
            os.rmdir(templates)
        except OSError:
            pass
    os._exit(0)


_TEMPLATES: dict = {}


def _prefork(grader: object) -> tuple[int, object]:
    """Fork the zygote's next child ahead of its request: (its pid, the
    socket its config and descriptors will come on).  The child is what a
    fork at request time would be (same process image, same namespaces); it
    waits, receives one request and becomes `spawn`, or leaves at end of
    file (the zygote is ending)."""
    import array
    import socket

    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid:
        theirs.close()
        return pid, ours
    try:
        grader.close()   # the grader's socket is the zygote's alone
        ours.close()
        fd_bytes = array.array("i").itemsize
        data, ancdata, _, _ = theirs.recvmsg(1 << 22, socket.CMSG_SPACE(8 * fd_bytes))
        fds = array.array("i")
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[:len(payload) - len(payload) % fd_bytes])
        theirs.close()
        if not data:
            os._exit(0)
        cfg = marshal.loads(data)
    except BaseException:  # noqa: BLE001 -- never back into the zygote's loop
        os._exit(SETUP_FAILED)
    spawn(cfg, list(fds))
    os._exit(SETUP_FAILED)


def _with_template(root: dict, folder: str) -> dict:
    """`root` with the zygote's template for its plan (built on first use;
    a plan that cannot have one is remembered as such)."""
    key = marshal.dumps((root["binds"], root["links"], root["empty"], root["devices"]))
    if _TEMPLATES.get(key) and not os.path.isdir(_TEMPLATES[key] + "/proc"):
        del _TEMPLATES[key]  # its mount point was removed from outside: build it again
    if key not in _TEMPLATES:
        path = os.path.join(folder, f"{len(_TEMPLATES)}-{os.urandom(4).hex()}")
        try:
            _TEMPLATES[key] = path if build_template(root, path) else None
        except OSError:
            _TEMPLATES[key] = None
    return {**root, "template": _TEMPLATES[key]} if _TEMPLATES[key] else root


def exit_like_interpreter(exc: BaseException) -> None:
    """End a forked worker the way `python script.py` ends on `exc` (the
    worker's `sys.exit`, or an uncaught exception): atexit handlers,
    flushed streams, the same exit status; never back into the zygote's
    code."""
    import atexit

    if isinstance(exc, SystemExit):
        code = exc.code
        if code is None:
            status = 0
        elif isinstance(code, int):
            status = code & 0xFF
        else:
            try:
                print(code, file=sys.stderr)
            except BaseException:  # noqa: BLE001
                pass
            status = 1
    else:
        try:
            sys.excepthook(type(exc), exc, exc.__traceback__)
        except BaseException:  # noqa: BLE001
            pass
        status = 1
    try:
        atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass
    os._exit(status)


def _reap() -> None:
    """Collect the zygote's ended children (they are not the grader's)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def adopt_fds(cfg: dict, fds: list[int]) -> dict:
    """The config with the grader's descriptor numbers replaced by the ones
    these descriptors got here: ``fds`` is [output, status, *keep_fds]."""
    out = dict(cfg)
    keep = [int(fd) for fd in cfg["keep_fds"]]
    mapping = dict(zip(keep, fds[2:]))
    out["keep_fds"] = [mapping[fd] for fd in keep]
    out["status_fd"] = fds[1]
    tail = len(cfg["argv"]) - len(keep)
    out["argv"] = list(cfg["argv"][:tail]) + [str(mapping.get(int(a), a)) for a in cfg["argv"][tail:]]
    return out


def map_root_user(uid: int, gid: int) -> None:
    """What ``unshare --map-root-user`` does after entering a new user
    namespace: this process's user and group (outside) become 0 inside,
    and setgroups is denied (required before an unprivileged gid_map)."""
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
        fd = os.open(f"/proc/self/{name}", os.O_WRONLY)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)


def spawn(cfg: dict, fds: list[int]) -> None:
    """In the zygote's child (never returns): what ``unshare [--user
    --map-root-user] --net --pid --mount --ipc --uts --fork --kill-child``
    does, then the launcher.  This
    process starts its own session (the grader kills the group), gets the
    output file as stdout/stderr, enters the namespaces the config's
    ``unshare`` names and forks the namespace's PID 1, which runs `main`
    and dies with this process; this one waits and exits as it did."""
    status_fd = fds[1] if len(fds) > 1 else None
    try:
        # no PR_SET_PDEATHSIG here: a worker outlives a zygote that dies (the
        # grader holds its pidfd and channel); it ends when the grader does
        os.setsid()
        cfg = adopt_fds(cfg, fds)
        os.dup2(fds[0], 1)
        os.dup2(fds[0], 2)
        os.close(fds[0])
        flags = 0
        for name in cfg.get("unshare", ()):
            flags |= CLONE_FLAGS.get(name, 0)
        outer = (os.getuid(), os.getgid())
        _check(libc().unshare(flags), "unshare")
        if "--map-root-user" in cfg.get("unshare", ()):
            map_root_user(*outer)
        child = os.fork()
    except BaseException as exc:  # noqa: BLE001
        fail_setup("cannot start the worker", exc, status_fd)
    if child == 0:
        try:
            libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # --kill-child
            main(cfg)  # returns only in the worker, by an exception: its way out
        except SystemExit as exc:
            exit_like_interpreter(exc)
        except BaseException as exc:  # noqa: BLE001 -- what an uncaught exception does to an interpreter
            exit_like_interpreter(exc)
        os._exit(SETUP_FAILED)
    for fd in [int(f) for f in cfg["keep_fds"]] + [cfg["status_fd"]]:
        try:  # the channel and the status are the namespace's alone: EOF when it ends
            os.close(fd)
        except OSError:
            pass
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    while True:
        try:
            _, raw = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            os._exit(70)
    if os.WIFSIGNALED(raw):
        os._exit(128 + os.WTERMSIG(raw))
    os._exit(os.WEXITSTATUS(raw) if os.WIFEXITED(raw) else 70)


if __name__ == "__main__":
    main()
