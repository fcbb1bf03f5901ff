"""``hall sim fingerprint`` (simulator process) and ``hall device fingerprint`` (talk to a module)."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from kiosk.devices.fingerprint.driver import EnrollStep, FingerprintReader
from kiosk.devices.fingerprint.errors import FingerprintConnectionError, FingerprintError
from kiosk.devices.fingerprint.simulator import FAULTS, FingerprintSimulator

EXIT_OK = 0
EXIT_DEVICE_ERROR = 1
EXIT_NO_ANSWER = 2

ENROLL_PROMPTS = {
    EnrollStep.PRESS_FIRST: "请按压手指 / place your finger",
    EnrollStep.LIFT: "请抬起手指 / lift your finger",
    EnrollStep.PRESS_SECOND: "请再次按压同一手指 / place the same finger again",
    EnrollStep.STORING: "正在保存 / storing",
}


def register(sim: argparse._SubParsersAction, device: argparse._SubParsersAction) -> None:
    """Add the ``fingerprint`` sub-commands to ``hall sim`` and ``hall device``."""
    sim_parser = sim.add_parser("fingerprint", help="simulated fingerprint module on a pty")
    sim_parser.add_argument(
        "--enrolled", action="append", default=[], metavar="PAGE=FINGER", help="seed a template"
    )
    sim_parser.add_argument("--capacity", type=int, default=200, help="library size in pages")
    sim_parser.add_argument("--password", type=lambda v: int(v, 0), default=0, help="module password")
    sim_parser.set_defaults(func=run_sim)

    dev_parser = device.add_parser("fingerprint", help="talk to a fingerprint module")
    dev_parser.add_argument("--url", required=True, help="serial port path or pyserial URL")
    dev_parser.add_argument("--baud", type=int, default=57600)
    dev_parser.add_argument("--password", type=lambda v: int(v, 0), default=0)
    dev_parser.add_argument("--timeout-s", type=float, default=1.0)
    dev_parser.add_argument("--wait-s", type=float, default=10.0, help="how long to wait for a finger")
    actions = dev_parser.add_subparsers(dest="action", required=True)
    actions.add_parser("info", help="system parameters and template count")
    actions.add_parser("identify", help="wait for a finger and search the library")
    enroll = actions.add_parser("enroll", help="enrol a finger at PAGE")
    enroll.add_argument("page", type=int)
    dev_parser.set_defaults(func=run_device)


def run_sim(args: argparse.Namespace, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run the simulator: print ``PTY <path>``, then obey one control command per stdin line."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    sim = FingerprintSimulator(capacity=args.capacity, password=args.password)
    for item in args.enrolled:
        page, _, finger = item.partition("=")
        try:
            sim.enroll_direct(int(page), finger)
        except ValueError as err:
            print(f"ERR --enrolled {item}: {err}", file=sys.stderr)
            return EXIT_NO_ANSWER
    print(f"PTY {sim.start()}", file=stdout, flush=True)
    try:
        for line in stdin:
            words = line.split()
            if words == ["quit"]:
                print("OK bye", file=stdout, flush=True)
                break
            if words:
                print(_control(sim, words), file=stdout, flush=True)
    finally:
        sim.stop()
    return EXIT_OK


def _control(sim: FingerprintSimulator, words: list[str]) -> str:
    """Apply one control command and return the ``OK ...`` / ``ERR ...`` answer line."""
    match words:
        case ["place", finger]:
            sim.place_finger(finger)
            return f"OK finger {finger} placed"
        case ["lift"]:
            sim.lift_finger()
            return "OK finger lifted"
        case ["enroll", page, finger] if page.isdigit():
            try:
                sim.enroll_direct(int(page), finger)
            except ValueError as err:
                return f"ERR {err}"
            return f"OK page {page} = {finger}"
        case ["fault", name, ("on" | "off") as state] if name in FAULTS:
            sim.set_fault(name, state == "on")
            return f"OK fault {name} {state}"
        case ["list"]:
            return "OK " + " ".join(f"{page}={finger}" for page, finger in sorted(sim.pages.items()))
        case ["unplug"]:
            sim.unplug()
            return "OK unplugged"
        case ["replug"]:
            return f"OK PTY {sim.replug()}"
    faults = "|".join(FAULTS)
    return (
        f"ERR unknown command {' '.join(words)!r}; use: place FINGER, lift, enroll PAGE FINGER, "
        f"fault {faults} on|off, list, unplug, replug, quit"
    )


def run_device(args: argparse.Namespace) -> int:
    """Run one action against a module; exit 2 when nothing answers, 1 on a module error."""
    reader = FingerprintReader(args.url, baud=args.baud, password=args.password, timeout_s=args.timeout_s)
    try:
        with reader:
            if args.action == "info":
                params = reader.read_system_parameters()
                print(f"容量 capacity: {params.capacity}")
                print(f"已登记 templates: {reader.template_count()}")
                print(f"安全等级 security level: {params.security_level}")
                print(f"地址 address: {params.address:08X}")
                print(f"包大小 packet size: {params.packet_size_bytes} bytes, 波特率 baud: {params.baud}")
            elif args.action == "identify":
                print(ENROLL_PROMPTS[EnrollStep.PRESS_FIRST], flush=True)
                hit = reader.identify(wait_s=args.wait_s)
                print(f"匹配 match: page {hit.page}, score {hit.score}")
            else:
                page = reader.enroll(args.page, wait_s=args.wait_s, on_step=_print_step)
                print(f"已登记 enrolled: page {page}")
    except FingerprintConnectionError as err:
        message = f"错误：{err.message_zh}（{args.url}）/ error: no answer from {args.url}: {err}"
        print(message, file=sys.stderr)
        return EXIT_NO_ANSWER
    except FingerprintError as err:
        print(f"错误：{err.message_zh} / error: {err}", file=sys.stderr)
        return EXIT_DEVICE_ERROR
    return EXIT_OK


def _print_step(step: EnrollStep) -> None:
    print(ENROLL_PROMPTS[step], flush=True)
