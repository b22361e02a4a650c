"""The Dockerfile, the console script and the README's promises stay true."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]


def dockerfile() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_is_python311_slim_and_copies_every_package() -> None:
    instructions = dockerfile()
    froms = [rest for word, rest in instructions if word == "FROM"]
    # the pjsua2 builder stage and the runtime stage share the base image (issue 12)
    assert froms and all(f.split()[0] == "python:3.11-slim" for f in froms)
    copied = {rest.split()[0] for word, rest in instructions if word == "COPY"}
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    for pkg in packages:
        assert pkg.rstrip("*") in copied, pkg
    assert any(w == "VOLUME" and "/data" in r for w, r in instructions)


def test_dockerfile_runtime_installs_only_the_built_wheel() -> None:
    instructions = dockerfile()
    last = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    builder, runtime = instructions[:last], instructions[last:]
    assert any(w == "RUN" and "scripts/build_pjsua2.py" in r for w, r in builder)
    runs = " ".join(r for w, r in runtime if w == "RUN")
    assert "/wheels/pjsua2-" in runs and "apt-get" not in runs and "swig" not in runs
    assert ("COPY", "--from=builder /wheels /wheels") in runtime


def test_dockerfile_command_exists() -> None:
    (cmd,) = [rest for word, rest in dockerfile() if word == "CMD"]
    argv = json.loads(cmd)
    script = argv[-1] if argv[:2] == ["sh", "-c"] else shlex.join(argv)
    commands = [
        shlex.split(part.replace("exec ", "")) for part in re.split(r"&&|;", script) if part.strip()
    ]
    for words in commands:
        assert words[0] == "outdial"
        proc = subprocess.run(
            [sys.executable, "-m", "outdial", *words[1:], "--help"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr


def test_console_script_is_declared() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["outdial"] == "outdial.cli:main"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" in readme and "make run" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)
