"""``hall sim fingerprint`` as its own process and ``hall device fingerprint`` against it."""

from __future__ import annotations

import argparse
import select
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from kiosk.devices.fingerprint.cli import register
from kiosk.devices.fingerprint.simulator import FingerprintSimulator

pytestmark = pytest.mark.timeout(30)

SIM_SCRIPT = """
import argparse, sys
from kiosk.devices.fingerprint.cli import register
root = argparse.ArgumentParser()
groups = root.add_subparsers(dest="group")
register(groups.add_parser("sim").add_subparsers(), groups.add_parser("device").add_subparsers())
args = root.parse_args(sys.argv[1:])
sys.exit(args.func(args))
"""


def build_parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="hall")
    groups = root.add_subparsers(dest="group", required=True)
    register(groups.add_parser("sim").add_subparsers(), groups.add_parser("device").add_subparsers())
    return root


def run_hall(*argv: str) -> int:
    args = build_parser().parse_args(list(argv))
    code: int = args.func(args)
    return code


class SimProcess:
    """The simulator process with line-based control over its stdin/stdout."""

    def __init__(self, *argv: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SIM_SCRIPT, "sim", "fingerprint", *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        first = self.readline()
        assert first.startswith("PTY /dev/")
        self.path = first.split(" ", 1)[1]

    def readline(self, timeout_s: float = 5.0) -> str:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout_s)
        assert ready, "simulator process did not answer"
        return self.proc.stdout.readline().rstrip("\n")

    def command(self, line: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.readline()


@pytest.fixture
def sim_process() -> Iterator[SimProcess]:
    sim = SimProcess("--enrolled", "3=alice", "--enrolled", "8=bob")
    yield sim
    if sim.proc.poll() is None:
        sim.proc.kill()
    sim.proc.wait(timeout=5)


def test_sim_process_and_device_commands(sim_process: SimProcess, capsys: pytest.CaptureFixture[str]) -> None:
    url = ["--url", sim_process.path, "--timeout-s", "0.3", "--wait-s", "0.5"]
    assert run_hall("device", "fingerprint", *url, "info") == 0
    out = capsys.readouterr().out
    assert "容量 capacity: 200" in out
    assert "已登记 templates: 2" in out

    assert run_hall("device", "fingerprint", *url, "identify") == 1
    assert "未检测到手指" in capsys.readouterr().err

    assert sim_process.command("place bob") == "OK finger bob placed"
    assert run_hall("device", "fingerprint", *url, "identify") == 0
    assert "page 8" in capsys.readouterr().out

    assert sim_process.command("enroll 9 carol") == "OK page 9 = carol"
    assert sim_process.command("list") == "OK 3=alice 8=bob 9=carol"
    assert sim_process.command("fault not_found on") == "OK fault not_found on"
    assert run_hall("device", "fingerprint", *url, "identify") == 1
    assert "指纹未登记" in capsys.readouterr().err
    assert sim_process.command("fault silent on") == "OK fault silent on"
    assert run_hall("device", "fingerprint", *url, "info") == 2
    assert "指纹仪无应答" in capsys.readouterr().err

    assert sim_process.command("fault sleepy on").startswith("ERR ")
    assert sim_process.command("enroll 900 x").startswith("ERR ")
    assert sim_process.command("dance").startswith("ERR unknown command")
    assert sim_process.command("quit") == "OK bye"
    assert sim_process.proc.wait(timeout=5) == 0


def test_sim_process_exits_on_eof(sim_process: SimProcess) -> None:
    assert sim_process.proc.stdin is not None
    sim_process.proc.stdin.close()
    assert sim_process.proc.wait(timeout=5) == 0


def test_device_enroll_command(capsys: pytest.CaptureFixture[str]) -> None:
    with FingerprintSimulator() as sim:
        sim.place_finger("dora")
        # The person lifts the finger and presses again while the command waits.
        lift = threading.Timer(0.8, sim.lift_finger)
        press = threading.Timer(1.6, sim.place_finger, args=("dora",))
        lift.start()
        press.start()
        try:
            url = ["--url", sim.slave_path]
            assert run_hall("device", "fingerprint", *url, "--wait-s", "5", "enroll", "4") == 0
        finally:
            lift.cancel()
            press.cancel()
        assert sim.pages == {4: "dora"}
    out = capsys.readouterr().out
    assert "请抬起手指" in out
    assert "已登记 enrolled: page 4" in out


def test_device_without_a_port_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_hall("device", "fingerprint", "--url", "/dev/no-such-fingerprint", "info") == 2
    err = capsys.readouterr().err
    assert "指纹仪未连接" in err
    assert "no answer from /dev/no-such-fingerprint" in err


def test_sim_rejects_a_bad_seed() -> None:
    assert run_hall("sim", "fingerprint", "--enrolled", "x=alice") == 2
