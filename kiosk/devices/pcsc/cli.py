"""``hall sim pcsc`` (a virtual card on pcscd's vpcd reader) and ``hall device pcsc`` (a real reader)."""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from collections.abc import Callable

from kiosk.devices.pcsc.apdu import MIFARE_1K_ATR, CardRead
from kiosk.devices.pcsc.driver import DEFAULT_READER_PATTERN, CardWatcher, ContactlessReader
from kiosk.devices.pcsc.errors import NoCardError, PcscError, PcscUnavailableError
from kiosk.devices.pcsc.vpcd import DEFAULT_VPCD_PORT, VirtualCard
from kiosk.devices.sim_control import serve_stdin

EXIT_NO_CARD = 1
EXIT_UNAVAILABLE = 2
EXIT_ERROR = 3


def _hex_arg(text: str) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not hex: {text!r}") from err
    if not value:
        raise argparse.ArgumentTypeError("empty hex value")
    return value


def register(sim: argparse._SubParsersAction, device: argparse._SubParsersAction) -> None:
    """Add the ``pcsc`` sub-commands to ``hall sim`` and ``hall device``."""
    sim_parser = sim.add_parser("pcsc", help="virtual contactless card on pcscd's vpcd reader")
    sim_parser.add_argument("--uid", type=_hex_arg, required=True, help="card UID in hex")
    sim_parser.add_argument("--atr", type=_hex_arg, default=MIFARE_1K_ATR, help="card ATR in hex")
    sim_parser.add_argument("--host", default="127.0.0.1")
    sim_parser.add_argument("--port", type=int, default=DEFAULT_VPCD_PORT)
    sim_parser.add_argument("--removed", action="store_true", help="start off the reader")
    sim_parser.set_defaults(func=run_sim)

    dev_parser = device.add_parser("pcsc", help="contactless card reader through pcscd")
    dev_parser.add_argument("--reader", default=None, help="exact reader name (default: first matching)")
    dev_parser.add_argument("--pattern", default=DEFAULT_READER_PATTERN, help="reader name regex")
    actions = dev_parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="list readers").set_defaults(func=_guarded(_list))
    actions.add_parser("read", help="read the UID of the card on the reader").set_defaults(
        func=_guarded(_read)
    )
    watch = actions.add_parser("watch", help="print card taps until interrupted")
    watch.add_argument("--seconds", type=float, default=None, help="stop after this long")
    watch.set_defaults(func=_guarded(_watch))


def run_sim(args: argparse.Namespace) -> int:
    """Run a virtual card; stdin: ``insert``, ``remove``, ``uid HEX``, ``fault sw XXXX|off``, ``quit``."""
    card = VirtualCard(uid=args.uid, atr=args.atr, host=args.host, port=args.port)
    print(f"VPCD {args.host}:{args.port}", flush=True)
    if not args.removed:
        print(_do(card, "insert"), flush=True)
    return serve_stdin(lambda line: _do(card, line.strip()), card.remove)


def _do(card: VirtualCard, command: str) -> str:
    """Apply one control command to the card and return the answer line."""
    verb, _, argument = command.partition(" ")
    try:
        if verb == "insert":
            card.insert()
            return f"OK inserted {card.uid.hex().upper()}"
        if verb == "remove":
            card.remove()
            return "OK removed"
        if verb == "uid":
            uid = _hex_arg(argument.strip())
            # A new UID is a different card: take the old one off first.
            was_inserted = card.inserted
            card.remove()
            card.uid = uid
            if was_inserted:
                card.insert()
            return f"OK uid {uid.hex().upper()}"
        if verb == "fault":
            return _fault(card, argument.split())
    except (PcscError, argparse.ArgumentTypeError) as err:
        return f"ERR {err}"
    return f"ERR unknown command {command!r}"


def _fault(card: VirtualCard, words: list[str]) -> str:
    """``fault sw XXXX`` makes every APDU fail with that status word; ``fault off`` clears it."""
    if words == ["off"]:
        card.fault_sw = None
        return "OK fault off"
    if len(words) == 2 and words[0] == "sw":
        sw = _hex_arg(words[1])
        if len(sw) != 2:
            return f"ERR status word must be 2 bytes: {words[1]!r}"
        card.fault_sw = int.from_bytes(sw, "big")
        return f"OK fault sw {sw.hex().upper()}"
    return "ERR usage: fault sw XXXX | fault off"


def _guarded(action: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn the package's errors into a message on stderr and an exit code."""

    def run(args: argparse.Namespace) -> int:
        try:
            return action(args)
        except NoCardError as err:
            print(f"no card: {err}", file=sys.stderr)
            return EXIT_NO_CARD
        except PcscUnavailableError as err:
            print(f"pcscd unavailable: {err}", file=sys.stderr)
            return EXIT_UNAVAILABLE
        except PcscError as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_ERROR

    return run


def _reader(args: argparse.Namespace) -> ContactlessReader:
    return ContactlessReader(reader_name=args.reader, name_pattern=args.pattern)


def _list(args: argparse.Namespace) -> int:
    for name in _reader(args).list_readers():
        print(name)
    return 0


def _read(args: argparse.Namespace) -> int:
    card = _reader(args).read_uid()
    print(f"UID {card.uid_hex} ATR {card.atr_hex}", flush=True)
    return 0


def _watch(args: argparse.Namespace) -> int:
    def inserted(card: CardRead) -> None:
        print(f"INSERT UID {card.uid_hex} ATR {card.atr_hex}", flush=True)

    def removed() -> None:
        print("REMOVE", flush=True)

    done = threading.Event()
    watcher = CardWatcher(_reader(args), on_insert=inserted, on_remove=removed)
    with watcher, contextlib.suppress(KeyboardInterrupt):
        done.wait(args.seconds)
    return 0
