"""``hall sim keypad`` as its own process and ``hall device keypad watch`` against it."""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time

import pytest

from kiosk.devices.keypad import KeyMap
from kiosk.devices.keypad.cli import handle_command, register
from kiosk.devices.keypad.simulator import KeypadSimulator

pytestmark = pytest.mark.timeout(30)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hall")
    top = parser.add_subparsers(dest="group", required=True)
    sim = top.add_parser("sim").add_subparsers(dest="kind", required=True)
    device = top.add_parser("device").add_subparsers(dest="kind", required=True)
    register(sim, device)
    return parser


def test_handle_command_answers() -> None:
    with KeypadSimulator(KeyMap.rating()) as sim:
        assert handle_command(sim, "press RATE_2") == "ERR no reader connected"
        assert handle_command(sim, "press NEXT").startswith("ERR no code is mapped")
        assert handle_command(sim, "press GOOD").startswith("ERR unknown logical key")
        assert handle_command(sim, "press 70000").startswith("ERR key code must be")
        assert handle_command(sim, "fault bounce on") == "OK bounce on"
        assert sim.bounce
        assert handle_command(sim, "fault repeat off") == "OK repeat off"
        assert handle_command(sim, "fault jam on").startswith("ERR unknown command")
        assert handle_command(sim, "unplug") == "OK unplugged"
        assert handle_command(sim, "replug") == f"OK URL {sim.url}"


def test_sim_process_and_watch(capsys: pytest.CaptureFixture[str]) -> None:
    code = (
        "import sys; from tests.devices.test_keypad_cli import build_parser as b; "
        "a = b().parse_args(['sim', 'keypad']); sys.exit(a.func(a))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        first = proc.stdout.readline().split()
        assert first[0] == "URL" and first[1].startswith("tcp://127.0.0.1:")
        args = build_parser().parse_args(["device", "keypad", "--url", first[1], "watch", "--count", "2"])
        results: list[int] = []
        watcher = threading.Thread(target=lambda: results.append(args.func(args)))
        watcher.start()

        def command(line: str) -> str:
            proc.stdin.write(line + "\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
            return proc.stdout.readline().strip()  # type: ignore[union-attr]

        deadline = time.monotonic() + 10
        while (answer := command("press RATE_2")) != "OK pressed 80":
            assert answer == "ERR no reader connected" and time.monotonic() < deadline
            time.sleep(0.05)
        assert command("press 79") == "OK pressed 79"
        watcher.join(10)
        assert results == [0]
        assert command("quit") == "OK bye"
        assert proc.wait(5) == 0
    finally:
        proc.kill()
        proc.wait()
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1:] for line in lines] == [["RATE_2", "code=80"], ["RATE_1", "code=79"]]


def test_watch_reports_unavailable(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["device", "keypad", "--url", "/dev/input/no-such-event", "watch"])
    assert args.func(args) == 1
    assert "错误" in capsys.readouterr().err
