"""``hall sim idcard`` as its own process and ``hall device idcard`` against it."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.devices.idcard import cli

pytestmark = pytest.mark.timeout(20)

DATA = Path(__file__).parent.parent / "data" / "identities.json"
RUN_SIM = (
    "import argparse, sys; from kiosk.devices.idcard import cli; "
    "sys.exit(cli.run_simulator(argparse.Namespace(identities=sys.argv[1])))"
)


class SimProcess:
    """The simulator process with line-based control."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", RUN_SIM, str(DATA)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        first = self.readline()
        assert first.startswith("PTY /dev/")
        self.path = first.split(" ", 1)[1]

    def readline(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def ask(self, line: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.readline()


@pytest.fixture
def sim() -> Iterator[SimProcess]:
    sim = SimProcess()
    yield sim
    if sim.proc.poll() is None:
        sim.proc.kill()
    sim.proc.wait(timeout=5)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hall")
    groups = parser.add_subparsers(dest="group", required=True)
    sim = groups.add_parser("sim").add_subparsers(dest="kind", required=True)
    device = groups.add_parser("device").add_subparsers(dest="kind", required=True)
    cli.register(sim, device)
    return parser


def _run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    result: int = args.func(args)
    return result


def test_control_commands(sim: SimProcess) -> None:
    assert sim.ask("place 0") == "OK placed 0 110***********002X"
    assert sim.ask("place 9").startswith("ERR")
    assert sim.ask("remove") == "OK removed"
    assert sim.ask("fault garbage on") == "OK fault garbage on"
    assert sim.ask("fault garbage off") == "OK fault garbage off"
    assert sim.ask("fault smoke on").startswith("ERR")
    assert sim.ask("dance").startswith("ERR")
    assert sim.ask("unplug") == "OK unplugged"
    assert sim.ask("replug").startswith("OK PTY /dev/")
    assert sim.ask("quit") == "OK bye"
    assert sim.proc.wait(timeout=5) == 0


def test_device_read_prints_masked(sim: SimProcess, capsys: pytest.CaptureFixture[str]) -> None:
    sim.ask("place 2")
    assert _run(["device", "idcard", "--url", sim.path, "read"]) == 0
    out = capsys.readouterr().out
    assert "440***********0024" in out
    assert "440305200503150024" not in out
    assert "深南大道" not in out
    assert "李娜" in out and "已过期" in out
    assert _run(["device", "idcard", "--url", sim.path, "status"]) == 0


def test_device_read_errors(sim: SimProcess, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["device", "idcard", "--url", sim.path, "read"]) == 1
    assert "请放置身份证" in capsys.readouterr().err
    sim.ask("fault silent on")
    assert _run(["device", "idcard", "--url", sim.path, "--timeout-s", "0.2", "read"]) == 2
    assert "无响应" in capsys.readouterr().err


def test_device_missing_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["device", "idcard", "--url", str(tmp_path / "none"), "read"]) == 2
    assert "未连接" in capsys.readouterr().err


def test_sim_bad_identities_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a list"}', encoding="utf-8")
    assert _run(["sim", "idcard", "--identities", str(bad)]) == 2
    assert "ERR" in capsys.readouterr().err
