"""``hall sim evaluator`` as its own process and ``hall device evaluator`` against it."""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time

import pytest

from kiosk.devices.evaluator.cli import handle_command, register
from kiosk.devices.evaluator.simulator import EvaluatorSimulator

pytestmark = pytest.mark.timeout(30)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hall")
    top = parser.add_subparsers(dest="group", required=True)
    sim = top.add_parser("sim").add_subparsers(dest="kind", required=True)
    device = top.add_parser("device").add_subparsers(dest="kind", required=True)
    register(sim, device)
    return parser


def test_handle_command_answers() -> None:
    with EvaluatorSimulator() as sim:
        assert handle_command(sim, "press 2") == "ERR keys not armed"
        assert handle_command(sim, "press 9").startswith("ERR unknown command")
        for fault in ("bad_checksum", "garbage", "silent"):
            assert handle_command(sim, f"fault {fault} on") == f"OK {fault} on"
            assert getattr(sim, fault) is True
            assert handle_command(sim, f"fault {fault} off") == f"OK {fault} off"
        assert handle_command(sim, "state") == "OK armed=0"
        assert handle_command(sim, "unplug") == "OK unplugged"
        assert handle_command(sim, "replug") == f"OK PTY {sim.slave_path}"


def test_sim_process_and_device_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code = (
        "import sys; from tests.devices.test_evaluator_cli import build_parser as b; "
        "a = b().parse_args(['sim', 'evaluator']); sys.exit(a.func(a))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    def command(line: str) -> str:
        stdin.write(line + "\n")
        stdin.flush()
        return stdout.readline().strip()

    try:
        first = stdout.readline().split()
        assert first[0] == "PTY" and first[1].startswith("/dev/")
        parser = build_parser()
        for action, expected in (("ping", 0), ("arm", 0), ("disarm", 0)):
            args = parser.parse_args(["device", "evaluator", "--url", first[1], action])
            assert args.func(args) == expected
        assert command("state") == "OK armed=0"

        args = parser.parse_args(["device", "evaluator", "--url", first[1], "watch", "--count", "1"])
        results: list[int] = []
        watcher = threading.Thread(target=lambda: results.append(args.func(args)))
        watcher.start()
        deadline = time.monotonic() + 10
        while (answer := command("press 4")) != "OK pressed 4":
            assert answer == "ERR keys not armed" and time.monotonic() < deadline
            time.sleep(0.05)
        watcher.join(10)
        assert results == [0]
        assert command("fault silent on") == "OK silent on"
        args = parser.parse_args(["device", "evaluator", "--url", first[1], "ping"])
        assert args.func(args) == 1
        assert command("quit") == "OK bye"
        assert proc.wait(5) == 0
    finally:
        proc.kill()
        proc.wait()
    captured = capsys.readouterr()
    assert "armed=0" in captured.out
    assert "RATE_4" in captured.out
    assert "错误" in captured.err
