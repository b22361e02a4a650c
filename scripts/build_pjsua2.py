#!/usr/bin/env python3
"""Build (or reuse) outdial's pjsua2 wheel from the pjproject source tarball.

Run by the Makefile with the venv's Python, so the wheel matches it:

    .venv/bin/python scripts/build_pjsua2.py --install

Why: the PyPI ``pjsua2-python`` wheel is compiled with PJSUA_MAX_CALLS = 4 and bundles
OpenSSL 1.0.2 (issue 12). This builds pjproject with outdial's own
``sip/pjproject/config_site.h`` (more calls, players, recorders and conference ports per
process; no video), links the system OpenSSL 3, and packages the SWIG binding as the
distribution ``pjsua2`` (``import pjsua2``).

The tarball, in this order (the first that is set or exists):
  1. ``OUTDIAL_PJPROJECT_TARBALL`` (environment) or ``pjproject_tarball`` in the TOML file
     named by ``OUTDIAL_CONFIG``: a path or an http(s) URL;
  2. ``../shared/vendor/pjproject-2.15.1.tar.xz`` relative to the project root;
  3. ``/work/shared/vendor/pjproject-2.15.1.tar.xz``.
It is always checked against its sha256 (``OUTDIAL_PJPROJECT_SHA256`` overrides the one below).

The wheel is cached in ``OUTDIAL_BUILD_CACHE`` (or ``build_cache`` in the TOML file; default
``$XDG_CACHE_HOME/outdial`` or ``~/.cache/outdial``) under a key made of the tarball's sha256,
config_site.h, this recipe's version and the Python tag, so a second run does not rebuild.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG_SITE = ROOT / "sip" / "pjproject" / "config_site.h"
TARBALL_NAME = "pjproject-2.15.1.tar.xz"
TARBALL_SHA256 = "61c88b8b02afd618dd460752ef1737312af3f1b40c2b4bc664fe93b32c200df3"
# Bump when the steps below change in a way that changes the wheel.
RECIPE = "4"
CONFIGURE = [
    "--enable-epoll",
    "--disable-video",
    "--disable-sound",
    "--disable-v4l2",
    "--disable-ffmpeg",
    "--disable-openh264",
    "--disable-libyuv",
    "--disable-sdl",
    "--disable-libwebrtc",
    "--disable-opencore-amr",
    "--disable-silk",
    "--disable-opus",
    "--disable-bcg729",
    "--disable-upnp",
    # outdial offers PCMU and PCMA only (sip/config.py); G.711 is always built.
    "--disable-speex-codec",
    "--disable-speex-aec",  # echo cancelling is off (sip/worker.py: ecTailLen = 0)
    "--disable-ilbc-codec",
    "--disable-gsm-codec",
    "--disable-g722-codec",
    "--disable-g7221-codec",
]
CFLAGS = "-O2 -fPIC -g0"
JOBS = os.environ.get("OUTDIAL_BUILD_JOBS", "2")


class BuildError(Exception):
    """The wheel cannot be built; the message says why and what to do."""


def _settings() -> dict[str, str]:
    path = os.environ.get("OUTDIAL_CONFIG")
    if not path or not Path(path).is_file():
        return {}
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return {k: str(v) for k, v in data.items() if isinstance(v, str | int)}


def _setting(name: str) -> str | None:
    return os.environ.get(f"OUTDIAL_{name.upper()}") or _settings().get(name) or None


def cache_dir() -> Path:
    given = _setting("build_cache")
    if given:
        return Path(given).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "outdial"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def find_tarball() -> Path:
    """The tarball's local path (downloaded to the cache if configured as a URL), sha-checked."""
    given = _setting("pjproject_tarball")
    candidates = [given] if given else []
    candidates += [
        str(ROOT.parent / "shared" / "vendor" / TARBALL_NAME),
        f"/work/shared/vendor/{TARBALL_NAME}",
    ]
    if given and given.startswith(("http://", "https://")):
        path = cache_dir() / "downloads" / Path(given).name
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            print(f"pjsua2: downloading {given}", flush=True)
            tmp = path.with_suffix(".part")
            urllib.request.urlretrieve(given, tmp)
            tmp.replace(path)
    else:
        found = [Path(c).expanduser() for c in candidates if Path(c).expanduser().is_file()]
        if given and not Path(given).expanduser().is_file():
            found = []  # a configured path that is missing is an error, not a fallback
        if not found:
            raise BuildError(
                "pjsua2: pjproject source tarball not found; looked at "
                + ", ".join(candidates)
                + ". Set OUTDIAL_PJPROJECT_TARBALL (or pjproject_tarball in the OUTDIAL_CONFIG"
                f" file) to the path or URL of {TARBALL_NAME} (sha256 {TARBALL_SHA256})."
            )
        path = found[0]
    want = os.environ.get("OUTDIAL_PJPROJECT_SHA256", TARBALL_SHA256)
    got = _sha256(path)
    if got != want:
        raise BuildError(f"pjsua2: {path} has sha256 {got}, expected {want}; refusing to build")
    return path


def cache_key(tarball_sha: str) -> str:
    h = hashlib.sha256()
    for part in (
        tarball_sha,
        CONFIG_SITE.read_bytes().decode(),
        RECIPE,
        " ".join(CONFIGURE) + CFLAGS,
        f"cp{sys.version_info.major}{sys.version_info.minor}",
        platform.machine(),
    ):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:16]


def _run(cmd: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> None:
    with open(log, "a") as out:
        out.write(f"\n$ {' '.join(cmd)}  (in {cwd})\n")
        out.flush()
        done = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
    if done.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-25:]
        raise BuildError("\n".join(tail) + f"\npjsua2: `{' '.join(cmd)}` failed; full log: {log}")


def config_site_values() -> dict[str, int]:
    """The integer ``#define``s of config_site.h."""
    values = {}
    for line in CONFIG_SITE.read_text().splitlines():
        m = re.match(r"\s*#\s*define\s+([A-Z_][A-Z0-9_]*)\s+\(?(\d+)\)?\s*(/\*.*)?$", line)
        if m:
            values[m.group(1)] = int(m.group(2))
    return values


def _stamp_limits(module: Path) -> None:
    """Append the compiled limits to pjsua2.py: some (PJSUA_MAX_PLAYERS, ..._RECORDERS) are
    not visible through the API; sip/limits.py reads them from ``pjsua2.OUTDIAL_CONFIG_SITE``."""
    with open(module, "a") as f:
        f.write("\n\n# outdial (scripts/build_pjsua2.py): sip/pjproject/config_site.h\n")
        f.write(f"OUTDIAL_CONFIG_SITE = {config_site_values()!r}\n")


def build(tarball: Path, dest: Path) -> Path:
    """Configure, compile and package; returns the wheel in ``dest``."""
    nice = ["nice", "-n", "10"] if shutil.which("nice") else []
    dest.mkdir(parents=True, exist_ok=True)
    log = dest / "build.log"
    log.write_text("")
    work = Path(tempfile.mkdtemp(prefix="pjsua2-build-", dir=dest.parent))
    try:
        with tarfile.open(tarball) as tar:
            if hasattr(tarfile, "data_filter"):  # PEP 706 (3.11.4+, and Debian's backport)
                tar.extractall(work, filter="data")
            else:  # the sha256 above already vouches for the archive
                tar.extractall(work)
        src = next(p for p in work.iterdir() if p.is_dir())
        shutil.copy(CONFIG_SITE, src / "pjlib" / "include" / "pj" / "config_site.h")
        env = dict(os.environ, CFLAGS=CFLAGS, CXXFLAGS=CFLAGS)
        steps = [
            (["./configure", *CONFIGURE], src),
            (["make", f"-j{JOBS}", "lib"], src),
            (["make", "pjsua2_wrap.cpp"], src / "pjsip-apps/src/swig/python"),
        ]
        for i, (cmd, cwd) in enumerate(steps, 1):
            print(f"pjsua2: [{i}/4] {' '.join(cmd)}", flush=True)
            _run(nice + cmd, cwd, log, env)
        # setuptools puts Python's own CFLAGS (with -g) first; -g0 after it drops the debug
        # info and -s strips the module at link time: ~35 MB -> ~8 MB (issue 12).
        wenv = dict(os.environ, PJDIR=str(src), CFLAGS="-g0", LDFLAGS="-s")
        _stamp_limits(src / "pjsip-apps/src/swig/python/pjsua2.py")
        print("pjsua2: [4/4] compiling the SWIG wrapper into a wheel (one thread)", flush=True)
        cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dest), "."]
        _run(nice + cmd, src / "pjsip-apps/src/swig/python", log, wenv)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    wheels = sorted(dest.glob("pjsua2-*.whl"))
    if not wheels:
        raise BuildError(f"pjsua2: the build made no wheel; log: {log}")
    _check_imports(wheels[0], log)
    return wheels[0]


def _check_imports(wheel: Path, log: Path) -> None:
    """Import the module from the wheel (an unresolved symbol shows only then); a wheel
    that does not load is deleted, never cached."""
    with tempfile.TemporaryDirectory() as tmp:
        pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", tmp]
        probe = "import pjsua2; print(pjsua2.UaConfig().maxCalls)"
        try:
            _run([*pip, str(wheel)], Path(tmp), log)
            _run([sys.executable, "-c", probe], Path(tmp), log)
        except BuildError:
            wheel.unlink()
            raise


def wheel_for_this_python() -> tuple[Path, str]:
    tarball = find_tarball()
    key = cache_key(_sha256(tarball))
    dest = cache_dir() / "pjsua2" / key
    wheels = sorted(dest.glob("pjsua2-*.whl"))
    if wheels:
        print(f"pjsua2: cached wheel {wheels[0]}", flush=True)
        return wheels[0], key
    print(f"pjsua2: building from {tarball} (first time ~4-8 min on 2 cores)", flush=True)
    started = time.monotonic()
    wheel = build(tarball, dest)
    print(f"pjsua2: built {wheel} in {time.monotonic() - started:.0f} s", flush=True)
    return wheel, key


def install(wheel: Path, key: str) -> None:
    """Install into the running interpreter unless this very build is already there."""
    stamp = Path(sys.prefix) / ".pjsua2-build"
    if stamp.is_file() and stamp.read_text().strip() == key:
        print("pjsua2: already installed", flush=True)
        return
    pip = [sys.executable, "-m", "pip"]
    # The PyPI wheel installs the same module names (pjsua2.py, _pjsua2*.so).
    subprocess.run([*pip, "uninstall", "-q", "-y", "pjsua2-python"], capture_output=True)
    subprocess.run(
        [*pip, "install", "-q", "--force-reinstall", "--no-deps", str(wheel)], check=True
    )
    stamp.write_text(key + "\n")
    print(f"pjsua2: installed {wheel.name}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--install", action="store_true", help="pip-install it into this Python")
    ap.add_argument("--out", type=Path, help="also copy the wheel into this directory")
    args = ap.parse_args()
    try:
        wheel, key = wheel_for_this_python()
        if args.install:
            install(wheel, key)
    except BuildError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        shutil.copy(wheel, args.out / wheel.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
