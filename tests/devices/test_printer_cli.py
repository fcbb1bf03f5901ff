"""``hall sim printer`` as its own process and ``hall device printer`` against it."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.devices.printer.cli import register
from kiosk.devices.printer.render import find_cjk_font
from kiosk.devices.printer.simulator import PrinterSimulator

pytestmark = pytest.mark.timeout(30)
REPO = Path(__file__).resolve().parents[2]


def hall(*argv: str) -> int:
    """Parse like ``hall`` would and run the chosen command."""
    parser = argparse.ArgumentParser(prog="hall")
    groups = parser.add_subparsers(dest="group", required=True)
    register(groups.add_parser("sim").add_subparsers(), groups.add_parser("device").add_subparsers())
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


class SimProcess:
    """The simulator run as a child process, driven through stdin/stdout."""

    def __init__(self, out_dir: Path) -> None:
        code = "import sys; from kiosk.devices.printer.cli import main; sys.exit(main(sys.argv[1:]))"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, "sim", "printer", "--out-dir", str(out_dir)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        first = self.read_line()
        assert first.startswith("PTY /"), first
        self.tty = first.split(" ", 1)[1]

    def read_line(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def wait_tickets(self, count: int, timeout_s: float = 3.0) -> str:
        """Ask ``tickets`` until it reports ``count`` (the child prints asynchronously)."""
        deadline = time.monotonic() + timeout_s
        answer = self.ask("tickets")
        while answer != f"OK {count}" and time.monotonic() < deadline:
            time.sleep(0.05)
            answer = self.ask("tickets")
        return answer

    def ask(self, command: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.read_line()


@pytest.fixture
def sim_process(tmp_path: Path) -> Iterator[SimProcess]:
    process = SimProcess(tmp_path / "out")
    yield process
    if process.proc.poll() is None:
        process.proc.kill()
    process.proc.wait(timeout=5)


def test_sim_process_prints_tickets_to_files(sim_process: SimProcess, tmp_path: Path) -> None:
    assert hall("device", "printer", "--url", sim_process.tty, "test-ticket") == 0
    assert hall("device", "printer", "--url", sim_process.tty, "status") == 0
    assert sim_process.wait_tickets(1) == "OK 1"
    text = (tmp_path / "out" / "ticket-0001.txt").read_text(encoding="utf-8")
    assert "测试事项（打印机自检）" in text
    assert "[QR] https://example.cn/queue/A001" in text
    assert (tmp_path / "out" / "ticket-0001.png").exists() == (find_cjk_font() is not None)
    assert sim_process.ask("quit") == "OK bye"
    assert sim_process.proc.wait(timeout=5) == 0


@pytest.mark.parametrize(("fault", "message"), [("paper_out", "缺纸"), ("cover_open", "上盖")])
def test_sim_process_faults(
    sim_process: SimProcess, fault: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sim_process.ask(f"fault {fault} on") == f"OK fault {fault} on"
    assert hall("device", "printer", "--url", sim_process.tty, "test-ticket") == 2
    assert message in capsys.readouterr().err
    assert sim_process.ask(f"fault {fault} off") == f"OK fault {fault} off"
    assert hall("device", "printer", "--url", sim_process.tty, "test-ticket") == 0
    assert sim_process.wait_tickets(1) == "OK 1"


def test_sim_process_rejects_unknown_commands(sim_process: SimProcess) -> None:
    assert sim_process.ask("fault jam on").startswith("ERR ")
    assert sim_process.ask("place 3").startswith("ERR ")
    sim_process.proc.stdin.close()  # type: ignore[union-attr]
    assert sim_process.proc.wait(timeout=5) == 0  # EOF ends it


def test_test_ticket_against_a_silent_printer(capsys: pytest.CaptureFixture[str]) -> None:
    sim = PrinterSimulator()
    tty = sim.start()
    sim.silent = True
    try:
        assert hall("device", "printer", "--url", tty, "--timeout-s", "0.2", "test-ticket") == 2
    finally:
        sim.stop()
    assert "无应答" in capsys.readouterr().err
    assert sim.tickets == []


def test_test_ticket_without_a_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert hall("device", "printer", "--url", str(tmp_path / "ttyUSB9"), "test-ticket") == 2
    assert "无法连接打印机" in capsys.readouterr().err
