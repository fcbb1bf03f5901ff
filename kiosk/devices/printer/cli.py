"""``hall sim printer`` and ``hall device printer`` commands."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from kiosk.devices.printer.driver import TicketPrinter
from kiosk.devices.printer.errors import (
    CoverOpenError,
    PaperOutError,
    PrinterConnectionError,
    PrinterError,
    PrinterTimeoutError,
)
from kiosk.devices.printer.layout import TicketContent
from kiosk.devices.printer.page import PrintedTicket
from kiosk.devices.printer.simulator import PrinterSimulator
from kiosk.devices.sim_control import serve_stdin

EXIT_DEVICE_ERROR = 2
FAULTS = ("paper_out", "cover_open", "offline", "paper_near_end", "silent")


def register(sim: argparse._SubParsersAction, device: argparse._SubParsersAction) -> None:
    """Add ``printer`` to ``hall sim`` and ``hall device``."""
    sim_parser = sim.add_parser("printer", help="ESC/POS ticket printer simulator on a pty")
    sim_parser.add_argument("--out-dir", type=Path, help="write each cut ticket as .txt (and .png) here")
    sim_parser.add_argument("--encoding", default="gb18030", help="gb18030 (default), gbk or utf-8")
    sim_parser.set_defaults(func=run_simulator)

    dev_parser = device.add_parser("printer", help="talk to an ESC/POS ticket printer")
    dev_parser.add_argument("--url", required=True, help="serial port or pyserial URL")
    dev_parser.add_argument("--baud", type=int, default=9600)
    dev_parser.add_argument("--encoding", default="gb18030")
    dev_parser.add_argument("--timeout-s", type=float, default=1.0)
    actions = dev_parser.add_subparsers(dest="action", required=True)
    actions.add_parser("test-ticket", help="print a sample ticket").set_defaults(func=run_test_ticket)
    actions.add_parser("status", help="show the real-time status").set_defaults(func=run_status)


def sample_ticket() -> TicketContent:
    """A ticket with Chinese text, full-width punctuation and a QR code."""
    return TicketContent(
        number="A001",
        item_name="测试事项（打印机自检）",
        window_group="5号窗口",
        issued_at=datetime.now().replace(second=0, microsecond=0),
        people_ahead=3,
        estimated_wait_min=10,
        materials=["身份证原件", "申请表（一式两份）"],
        qr_url="https://example.cn/queue/A001",
        hall_name="政务服务中心",
    )


def _printer(args: argparse.Namespace) -> TicketPrinter:
    return TicketPrinter(args.url, baud=args.baud, encoding=args.encoding, timeout_s=args.timeout_s)


def _fail(message: str) -> int:
    print(f"错误：{message}", file=sys.stderr)
    return EXIT_DEVICE_ERROR


def _device_command(args: argparse.Namespace, ticket: bool) -> int:
    try:
        with _printer(args) as printer:
            if ticket:
                printer.print_ticket(sample_ticket())
                print("OK 测试票已发送")
            else:
                print(f"OK {printer.status()}")
    except PrinterTimeoutError:
        return _fail(f"打印机无应答（{args.url}），请检查电源、连线和波特率 {args.baud}")
    except PrinterConnectionError as err:
        return _fail(f"无法连接打印机（{args.url}）：{err}")
    except PaperOutError:
        return _fail("打印机缺纸，请更换纸卷")
    except CoverOpenError:
        return _fail("打印机上盖未关好")
    except PrinterError as err:
        return _fail(f"打印机故障：{err}")
    return 0


def run_test_ticket(args: argparse.Namespace) -> int:
    """Print a sample ticket; exit code 2 when the printer does not answer or is not ready."""
    return _device_command(args, ticket=True)


def run_status(args: argparse.Namespace) -> int:
    """Print the printer's real-time status."""
    return _device_command(args, ticket=False)


class TicketFileWriter:
    """Writes each cut ticket as ``ticket-NNNN.txt`` (and ``.png`` when a CJK font exists)."""

    def __init__(self, out_dir: Path | None) -> None:
        self.out_dir = out_dir
        self.count = 0

    def __call__(self, ticket: PrintedTicket) -> None:
        """Write one ticket."""
        self.count += 1
        if self.out_dir is None:
            return
        stem = self.out_dir / f"ticket-{self.count:04d}"
        stem.with_suffix(".txt").write_text(ticket.text + "\n", encoding="utf-8")
        # Pillow and qrcode only when tickets are written: ``hall`` imports this module to build its
        # command tree, and every ``hall`` process (the window agent too) would load them otherwise.
        from kiosk.devices.printer.render import render_png

        render_png(ticket, stem.with_suffix(".png"))


def _control(sim: PrinterSimulator, line: str) -> str:
    words = line.split()
    match words:
        case ["fault", name, ("on" | "off") as state] if name in FAULTS:
            setattr(sim, name, state == "on")
            return f"OK fault {name} {state}"
        case ["tickets"]:
            return f"OK {len(sim.tickets)}"
        case ["unplug"]:
            sim.unplug()
            return "OK unplugged"
        case ["replug"]:
            return f"OK PTY {sim.replug()}"
        case _:
            return f"ERR unknown command: {line.strip()} (fault NAME on|off, tickets, unplug, replug, quit)"


def run_simulator(args: argparse.Namespace) -> int:
    """Run the simulator: print ``PTY <path>``, then serve control commands from stdin."""
    out_dir: Path | None = args.out_dir
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    sim = PrinterSimulator(encoding=args.encoding, on_ticket=TicketFileWriter(out_dir))
    print(f"PTY {sim.start()}", flush=True)
    return serve_stdin(lambda line: _control(sim, line), sim.stop)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m kiosk.devices.printer.cli sim|device printer ...``."""
    parser = argparse.ArgumentParser(prog="printer")
    groups = parser.add_subparsers(dest="group", required=True)
    register(
        groups.add_parser("sim").add_subparsers(dest="kind", required=True),
        groups.add_parser("device").add_subparsers(dest="kind", required=True),
    )
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
