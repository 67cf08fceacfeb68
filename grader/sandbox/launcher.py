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
    no host socket and no other /proc exist for the worker."""
    try:
        mount(None, "/", None, MS_REC | MS_PRIVATE)
    except OSError:
        pass
    stage_fd = os.open(cfg["stage"], os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    new = cfg["stage"].rstrip("/")  # the new root is mounted over the staging folder (still read via stage_fd)
    mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=4m,nr_inodes=16384")
    ro = MS_RDONLY | MS_NOSUID | MS_NODEV
    # the private /tmp first: an interpreter or a venv living under /tmp is bound inside it
    os.makedirs(new + "/tmp", mode=0o755, exist_ok=True)
    mount("tmpfs", new + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
          f"mode=1777,size={max(1, int(cfg['tmp_mb']))}m,nr_inodes=16384")
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
    os.makedirs(new + "/dev/shm", mode=0o755, exist_ok=True)
    mount("tmpfs", new + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
          f"mode=1777,size={max(1, int(cfg['shm_mb']))}m,nr_inodes=4096")
    inner = new + cfg["inner"]
    os.makedirs(inner, mode=0o755, exist_ok=True)
    copy_tree(f"/proc/self/fd/{stage_fd}", inner)
    os.chmod(inner, 0o1777)
    os.close(stage_fd)
    os.makedirs(new + "/proc", mode=0o555, exist_ok=True)
    mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.chdir(new)
    number = SYS_PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise OSError(f"pivot_root: unknown machine {os.uname().machine}")
    _check(libc().syscall(number, b".", b"."), "pivot_root")
    _check(libc().umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")
    mount(None, "/", None, MS_REMOUNT | MS_BIND | ro)


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
        import runpy
        import site

        site.main()  # this interpreter started with -S; the worker needs site-packages
        if status_fd is not None:
            os.close(status_fd)
    except BaseException as exc:  # noqa: BLE001 -- report and leave, never fall through
        try:
            os.write(2, f"nngrade sandbox: cannot start the worker: {exc}\n".encode())
            if status_fd is not None:
                os.write(status_fd, b"setup ")
        finally:
            os._exit(SETUP_FAILED)
    # Run the worker script in this very process: the same as exec'ing
    # `python -I -B script args` (isolated, no bytecode, the script's folder
    # not on sys.path) minus one interpreter start-up.
    script = next(a for a in argv[1:] if not a.startswith("-"))
    sys.argv = argv[argv.index(script):]
    runpy.run_path(script, run_name="__main__")
    sys.exit(0)


def join_cgroup(procs: str) -> None:
    """Move this process into the worker's accounting group (a cgroup v1
    `cpuacct` group the grader made); every process it starts inherits it."""
    fd = os.open(procs, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, str(os.getpid()).encode())
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


def main() -> None:
    cfg = read_config()
    status_fd = cfg.get("status_fd")
    if status_fd is not None:
        status_fd = int(status_fd)
        os.set_inheritable(int(status_fd), False)
    try:
        procs = cfg.get("cgroup_procs")
        for path in ([procs] if isinstance(procs, str) else procs or []):
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
        os.write(2, f"nngrade sandbox: cannot set up the sandbox: {exc}\n".encode())
        if status_fd is not None:
            os.write(status_fd, b"setup ")
        os._exit(SETUP_FAILED)
    child = os.fork()
    if child == 0:
        become_worker(cfg, status_fd)
    for fd in cfg["keep_fds"]:  # the channel is the worker's alone
        try:
            os.close(int(fd))
        except OSError:
            pass
    os._exit(supervise(child, status_fd))


if __name__ == "__main__":
    main()
