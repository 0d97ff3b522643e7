"""Every shell command in README.md and docs/*.md is run here, in the order a reader meets it.

Each fenced ``sh`` block carries a directive on the line before it, ``<!-- test: KIND [option="..."] -->``:

* ``run``: the block runs as written (``bash -e``), in a copy of the working tree with ``.venv/bin`` on
  the PATH, and must exit 0. Options: ``until="TEXT"`` for a command that runs until stopped (it is
  stopped with Ctrl-C once TEXT is printed), ``expect="TEXT"`` (the output must contain TEXT),
  ``shrunk`` (training sizes made tiny: :data:`SHRINK`), ``photos`` (``photos/`` is a folder of
  labelled photos, as the reader's own would be), ``shared`` (reads ../shared without naming it: the
  plate font, real-dev), ``timeout="S"``.
* ``staged``: a block for a live box, run against a staging root instead (:func:`stage`): ``sudo`` is
  dropped, ``install.sh`` installs into the stage (``--root``), ``/etc|/opt|/var/lib/anpr-edge`` are the
  stage's (and its HTTP port any free one), editing the config puts the demo clip in as the camera,
  ``systemctl start`` runs the unit's command in the background until the next block that is not staged;
  what needs systemd itself (``journalctl``, ``systemctl reload``) is skipped and named in the output.
* ``skip "REASON"``: not run, for the reason given (the test reports it).

Blocks of one file share one copy of the tree and one stage, so a walkthrough runs step by step. A
block that reads ``../shared`` is skipped when that folder is missing; ``../shared/real-dev`` is, here,
its first 4 trained-on and 4 held-out images, so the commands take seconds, not minutes. A block whose
command sets up the environment (``make``) runs only if .venv was set up by ``scripts/setup.sh`` from
this pyproject.toml (it would otherwise install into .venv).
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
#: Docs other people own and test themselves; their shell blocks are not run here.
NOT_HERE = {
    "docs/preregistration.md": "the rules of past and planned training runs, not commands to run",
    "docs/integrations.md": "HTTP health and Home Assistant, tested with their own code",
    "docs/architecture.md": "the design, no commands",
}
DOCS = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if f"docs/{p.name}" not in NOT_HERE)]
README_MAX_WORDS = 1500
#: ``shrunk`` blocks: options that set how long training runs, made tiny (the code paths stay the same).
SHRINK = {
    "--epochs": "1",
    "--steps": "2",
    "--batch": "8",
    "--chunks": "1",
    "--chunk-size": "64",
    "--val-size": "32",
    "--extra-per-batch": "2",
    "--real-per-batch": "2",
    "--n": "8",
    "--frames": "20",
    "--seconds": "2",
    "--clips": "2",
}
PLACEHOLDER = "rtsp://user:password@192.168.1.64:554/Streaming/Channels/101"
DIRECTIVE = re.compile(r"^<!--\s*test:\s*(?P<kind>run|staged|skip)\b(?P<rest>.*?)-->\s*$")
FENCE = re.compile(r"^```(?P<lang>\w*)\s*$")
SHELL = {"sh", "bash", "shell", "console"}


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int  # of the opening fence
    kind: str  # run | staged | skip | missing
    options: dict[str, str]
    text: str

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"


def parse_options(rest: str) -> dict[str, str]:
    """``until="event A" shrunk`` → ``{"until": "event A", "shrunk": ""}``; a bare string is ``reason``."""
    out: dict[str, str] = {}
    for token in shlex.split(rest):
        key, sep, value = token.partition("=")
        if sep and key in ("until", "expect", "timeout"):
            out[key] = value
        elif token in ("shrunk", "photos", "shared"):
            out[token] = ""
        elif "reason" not in out and not sep:
            out["reason"] = token
        else:
            out.setdefault("unknown", token)
    return out


def blocks(doc: Path) -> list[Block]:
    """The shell blocks of ``doc`` with their directives (kind ``missing`` when there is none)."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), len(lines))
        if m["lang"] in SHELL:
            prev = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            d = DIRECTIVE.match(prev.strip())
            kind, options = (d["kind"], parse_options(d["rest"])) if d else ("missing", {})
            out.append(Block(doc, i + 1, kind, options, "\n".join(lines[i + 1 : end])))
        i = end + 1
    return out


ALL = [b for doc in DOCS for b in blocks(doc)]


def readme_words(doc: str = "README.md") -> int:
    """Words a reader reads in ``doc``: everything but the test directives (HTML comments)."""
    text = re.sub(r"<!--.*?-->", "", (ROOT / doc).read_text(encoding="utf-8"), flags=re.S)
    return len(text.split())


def test_readme_is_short() -> None:
    assert readme_words() <= README_MAX_WORDS, f"README.md has {readme_words()} words"


def test_model_card_is_short() -> None:
    """The model card, its generated export sections included, stays a card (≤ 1,500 words)."""
    words = readme_words("models/README.md")
    assert words <= README_MAX_WORDS, f"models/README.md has {words} words"


def test_every_shell_block_says_how_it_is_tested() -> None:
    missing = [b.where for b in ALL if b.kind == "missing"]
    assert not missing, f"shell blocks without a <!-- test: ... --> line before them: {missing}"
    unexplained = [b.where for b in ALL if b.kind == "skip" and not b.options.get("reason")]
    assert not unexplained, f"skipped blocks must say why: {unexplained}"
    odd = [
        f"{b.where}: {b.options.get('unknown') or b.options['reason']}"
        for b in ALL
        if b.kind != "skip" and ("unknown" in b.options or "reason" in b.options)
    ]
    assert not odd, f"unknown directive options: {odd}"


def test_links_between_docs_resolve() -> None:
    broken = []
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if "://" not in target and not (doc.parent / target).exists():
                broken.append(f"{doc.relative_to(ROOT)} → {target}")
    assert not broken, broken


# ---- running the blocks ---------------------------------------------------------------------------------


@dataclass
class Session:
    """One doc's copy of the tree, its stage, and the daemons its staged blocks started."""

    repo: Path
    stage: Path
    env: dict[str, str]
    daemons: list[int] = field(default_factory=list)  # session leaders started by staged blocks

    def close(self) -> None:
        """Stop the staged daemons (before a block that is not staged, and at the end)."""
        while self.daemons:
            pid = self.daemons.pop()
            try:
                os.killpg(pid, signal.SIGINT)
            except ProcessLookupError:
                continue
            end = time.monotonic() + 15
            while alive(pid) and time.monotonic() < end:
                time.sleep(0.1)
            if alive(pid):
                os.killpg(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie: a staged daemon's parent shell has exited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def stop_group(p: subprocess.Popen[bytes], sig: int = signal.SIGINT, wait: float = 15.0) -> None:
    """Signal the block's whole process group (its shell may be gone while its ``&`` jobs run on) and wait
    until every member has exited; SIGKILL what is left after ``wait`` seconds."""
    group = p.pid
    try:
        os.killpg(group, sig)
    except ProcessLookupError:
        p.poll()
        return
    end = time.monotonic() + wait
    while group_alive(group) and time.monotonic() < end:
        p.poll()
        time.sleep(0.1)
    if group_alive(group):
        os.killpg(group, signal.SIGKILL)
    p.wait()


def group_alive(pgid: int) -> bool:
    """A member of process group ``pgid`` still runs (zombies do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def source_files() -> list[str]:
    r = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    return [f for f in r.stdout.decode().split("\0") if f and (ROOT / f).is_file()]


def shared_subset(dest: Path) -> None:
    """``dest`` as ../shared: real-dev cut to 4 trained-on and 4 held-out images, the rest linked."""
    from anpr_edge.tools.labels import trained_on

    dest.mkdir()
    for entry in SHARED.iterdir():
        if entry.name != "real-dev":
            (dest / entry.name).symlink_to(entry)
    src = SHARED / "real-dev"
    if not (src / "labels.csv").is_file():
        return
    rows = (src / "labels.csv").read_text(encoding="utf-8").splitlines()
    names = sorted({r.split(";")[0] for r in rows[1:] if r.strip()})
    keep = [n for n in names if trained_on(n)][:4] + [n for n in names if not trained_on(n)][:4]
    (dest / "real-dev" / "images").mkdir(parents=True)
    for n in keep:
        (dest / "real-dev" / "images" / n).symlink_to(src / "images" / n)
    kept = [rows[0]] + [r for r in rows[1:] if r.split(";")[0] in keep]
    (dest / "real-dev" / "labels.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")


def setup_is_current() -> bool:
    """.venv was set up by scripts/setup.sh from this pyproject.toml and constraints.txt (its stamp)."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + (ROOT / "constraints.txt").read_bytes())
    want = digest.hexdigest()[:16]
    return any(p.read_text().strip() == want for p in (ROOT / ".venv").glob(".anpr-edge-setup*"))


_sessions: dict[Path, Session] = {}


@pytest.fixture(scope="module")
def sessions() -> Iterator[dict[Path, Session]]:
    yield _sessions
    for s in _sessions.values():
        s.close()
    _sessions.clear()


def session_for(doc: Path, tmp_path_factory: pytest.TempPathFactory) -> Session:
    if doc in _sessions:
        return _sessions[doc]
    base = tmp_path_factory.mktemp(doc.stem)
    repo = base / "anpr-edge"
    for f in source_files():
        (repo / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, repo / f)
    (repo / ".venv").symlink_to(ROOT / ".venv")
    if SHARED.is_dir():
        shared_subset(base / "shared")
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.pop("DISPLAY", None)
    env["PYTHONUNBUFFERED"] = "1"
    _sessions[doc] = Session(repo, base / "stage", env)
    return _sessions[doc]


def stage(text: str, s: Session) -> tuple[str, list[str]]:
    """A live-box block as it runs against the stage, and the commands skipped (each with its reason)."""
    st = str(s.stage)
    out: list[str] = []
    skipped: list[str] = []
    for line in text.splitlines():
        cmd = line.split("#", 1)[0].strip()
        if not cmd:
            continue
        cmd = re.sub(r"^sudo\s+", "", cmd)
        for live in ("/etc/anpr-edge", "/opt/anpr-edge", "/var/lib/anpr-edge"):
            cmd = cmd.replace(live, st + live)
        if cmd.startswith("./install.sh"):
            out.append(cmd.replace("./install.sh", f"./install.sh --root {st} --no-venv", 1))
            if "--uninstall" not in cmd:  # the installed config names the live paths: point them at the stage
                out.append(f"sed -i -e 's#/opt/anpr-edge#{st}/opt/anpr-edge#g' {stage_config(s)}")
                out.append(f"sed -i -e 's#/var/lib/anpr-edge#{st}/var/lib/anpr-edge#g' {stage_config(s)}")
                # A staged daemon shares the machine: its HTTP endpoint on any free port, not the box's.
                out.append(f"sed -i -e 's#listen: 127.0.0.1:9464#listen: 127.0.0.1:0#' {stage_config(s)}")
        elif re.match(r"^(sudoedit|nano|vi|vim|editor)\s", cmd):
            clip = s.repo / "config" / "demo" / "demo.mp4"
            out.append(
                f"sed -i -e 's#{PLACEHOLDER}#{clip}#' -e 's#^\\(\\s*\\)target_fps: 10#\\1target_fps: 25#' "
                f"{cmd.split()[-1]}"
            )
            out.append(f"sed -i -e 's#^\\(\\s*- name: entry\\)#\\1\\n    loop: true#' {cmd.split()[-1]}")
        elif re.match(r"^systemctl\s+start\s+anpr-edge", cmd):
            log = s.stage.parent / "daemon.log"
            out.append(
                f"setsid anpr-edge run --config {stage_config(s)} > {log} 2>&1 < /dev/null & echo $! > {log}.pid"
            )
            out.append(f"for i in $(seq 300); do grep -q 'streaming' {log} && break; sleep 0.2; done")
            out.append(f"grep -q streaming {log} || {{ cat {log}; exit 1; }}")
            out.append(f"until [ -f {st}/var/lib/anpr-edge/status.json ]; do sleep 0.2; done")
        elif re.match(r"^(systemctl|journalctl)\b", cmd):
            skipped.append(f"{line.strip()}  (needs systemd running the service)")
        else:
            out.append(cmd)
    return "\n".join(out), skipped


def stage_config(s: Session) -> str:
    return f"{s.stage}/etc/anpr-edge/config.yaml"


def shrink(text: str) -> str:
    for opt, small in SHRINK.items():
        text = re.sub(rf"(?<!\S){re.escape(opt)}(\s+|=)\S+", rf"{opt}\g<1>{small}", text)
    return text


def run_block(b: Block, s: Session) -> str:
    script = b.text
    skipped: list[str] = []
    if b.kind == "staged":
        script, skipped = stage(script, s)
    if "shrunk" in b.options:
        script = shrink(script)
    if "photos" in b.options:
        photos = s.repo / "photos"
        if not photos.exists():
            photos.symlink_to(s.repo.parent / "shared" / "real-dev")
    log = s.repo.parent / f"block-{b.line}.log"
    timeout = float(b.options.get("timeout", "240"))
    until = b.options.get("until")
    with log.open("wb") as fh:
        p = subprocess.Popen(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=s.repo,
            env=s.env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        try:
            while p.poll() is None and time.monotonic() < deadline:
                if until is not None and until in log.read_text(errors="replace"):
                    stop_group(p)
                    break
                time.sleep(0.2)
        finally:
            timed_out = p.poll() is None
            stop_group(p, signal.SIGINT if not timed_out else signal.SIGKILL)  # and the block's & jobs
    for pidfile in s.stage.parent.glob("*.pid"):
        s.daemons.append(int(pidfile.read_text()))
        pidfile.unlink()
    output = log.read_text(errors="replace")
    shown = f"{b.where}\n--- script ---\n{script}\n--- output ---\n{output[-4000:]}"
    assert not timed_out, f"timed out after {timeout:.0f} s: {shown}"
    if until is not None:
        assert until in output, f"never printed {until!r}: {shown}"
    else:
        assert p.returncode == 0, f"exit {p.returncode}: {shown}"
    if "expect" in b.options:
        assert b.options["expect"] in output, f"no {b.options['expect']!r} in the output: {shown}"
    for line in skipped:
        print(f"{b.where}: not run here: {line}")
    return output


def skip_reason(b: Block) -> str | None:
    if b.kind == "skip":
        return b.options["reason"]
    if ("../shared" in b.text or "shared" in b.options or "photos" in b.options) and not SHARED.is_dir():
        return f"needs {SHARED} (licensed data, not in the repository)"
    if re.search(r"(^|\s)make\s", b.text) and not setup_is_current():
        return ".venv was not set up by scripts/setup.sh from this pyproject.toml (run make test first)"
    if b.kind == "staged" and os.name != "posix":
        return "needs a POSIX shell"
    needs = {"mosquitto": "mosquitto", "mosquitto_sub": "mosquitto-clients"}
    for tool, package in needs.items():
        if (
            re.search(rf"(^|\s){tool}\s", b.text)
            and shutil.which(tool) is None
            and not Path(f"/usr/sbin/{tool}").exists()
        ):
            return f"{tool} not installed (apt-get install -y {package})"
    return None


@pytest.mark.slow
@pytest.mark.parametrize("block", [b for b in ALL if b.kind != "missing"], ids=lambda b: b.where)
def test_block(block: Block, sessions: dict[Path, Session], tmp_path_factory: pytest.TempPathFactory) -> None:
    reason = skip_reason(block)
    if reason is not None:
        pytest.skip(reason)
    s = session_for(block.doc, tmp_path_factory)
    if block.kind != "staged":
        s.close()  # a staged daemon lives across the staged blocks that follow it, no further
    run_block(block, s)
