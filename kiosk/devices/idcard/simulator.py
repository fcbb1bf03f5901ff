"""A GA 467 ID-card reader on a pty, answering with the codec's own frames."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Any

from kiosk.devices.idcard.codec import (
    PHOTO_SIZE,
    Command,
    FrameDecoder,
    Request,
    Response,
    Status,
    build_read_payload,
    request_decoder,
)
from kiosk.devices.idcard.errors import FrameChecksumError, FrameLengthError, IdentityFieldError
from kiosk.devices.idcard.identity import Identity
from kiosk.devices.idcard.text import LONG_TERM, encode_text_block
from kiosk.devices.pty_sim import PtySimulator

log = logging.getLogger(__name__)

FAULTS = ("no_card", "select_failed", "read_failed", "bad_checksum", "garbage", "silent")
SAM_ID = bytes.fromhex("05 01 20 24 00 00 00 01 00 00 00 00 12 34 56 78")
_FIND_DATA = bytes(4)
_SELECT_DATA = bytes(8)
_NO_CARD_STATUS = {
    Command.FIND_CARD: Status.NO_CARD,
    Command.SELECT_CARD: Status.SELECT_FAILED,
    Command.READ_TEXT_PHOTO: Status.READ_FAILED,
}


def identity_from_dict(raw: dict[str, Any]) -> Identity:
    """An Identity from a JSON object (dates ISO ``YYYY-MM-DD``; valid_to null or "长期")."""
    known = {f.name for f in fields(Identity)} - {"photo_wlt"}
    if set(raw) != known:
        raise IdentityFieldError(f"identity object must have exactly the fields {sorted(known)}")
    valid_to = raw["valid_to"]
    try:
        return Identity(
            **{k: raw[k] for k in ("name", "gender", "nation", "address", "id_number", "issuing_authority")},
            birth_date=date.fromisoformat(raw["birth_date"]),
            valid_from=date.fromisoformat(raw["valid_from"]),
            valid_to=None if valid_to in (None, LONG_TERM) else date.fromisoformat(valid_to),
        )
    except (TypeError, ValueError) as err:
        raise IdentityFieldError(f"bad date in identity object: {err}") from err


def load_identities(path: str | os.PathLike[str]) -> list[Identity]:
    """Identities from a JSON file holding a list of objects."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise IdentityFieldError("identities file must hold a JSON list")
    return [identity_from_dict(item) for item in raw]


class IdCardSimulator(PtySimulator):
    """Reader with a SAM module; place and remove cards, switch faults on and off."""

    def __init__(self, identities: Iterable[Identity] = ()) -> None:
        super().__init__()
        self.identities = list(identities)
        self.card: Identity | None = None
        self.faults: set[str] = set()
        self._decoder: FrameDecoder[Request] = request_decoder()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> IdCardSimulator:
        """A simulator holding the identities of a JSON file."""
        return cls(load_identities(path))

    def place(self, card: int | Identity) -> Identity:
        """Put a card on the reader: an index into ``identities`` or an Identity."""
        self.card = self.identities[card] if isinstance(card, int) else card
        return self.card

    def remove(self) -> None:
        """Take the card away."""
        self.card = None

    def set_fault(self, name: str, on: bool) -> None:
        """Switch one of ``FAULTS`` on or off."""
        if name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
        if name == "silent":
            self.silent = on
        elif on:
            self.faults.add(name)
        else:
            self.faults.discard(name)

    def start(self) -> str:
        """Open a fresh pty (dropping half-received frames) and serve it."""
        self._decoder = request_decoder()
        return super().start()

    # -- device side -------------------------------------------------------
    def on_bytes(self, data: bytes) -> None:
        """Answer every complete request frame in ``data``."""
        self._decoder.feed(data)
        while True:
            try:
                request = self._decoder.next_frame()
            except FrameChecksumError:
                self._reply(Response(Status.CHECKSUM_ERROR))
                continue
            except FrameLengthError:
                self._reply(Response(Status.LENGTH_ERROR))
                continue
            if request is None:
                return
            self._reply(self._answer(request))

    def _answer(self, request: Request) -> Response:
        command = request.command
        if command in (Command.RESET_SAM, Command.SAM_STATUS):
            return Response(Status.OK)
        if command is Command.READ_SAM_ID:
            return Response(Status.OK, SAM_ID)
        if command not in (Command.FIND_CARD, Command.SELECT_CARD, Command.READ_TEXT_PHOTO):
            return Response(Status.COMMAND_ERROR)
        card = None if "no_card" in self.faults else self.card
        if card is None:
            return Response(_NO_CARD_STATUS[command])
        if command is Command.FIND_CARD:
            return Response(Status.CARD_FOUND, _FIND_DATA)
        if command is Command.SELECT_CARD:
            failed = "select_failed" in self.faults
            return Response(Status.SELECT_FAILED) if failed else Response(Status.OK, _SELECT_DATA)
        if "read_failed" in self.faults:
            return Response(Status.READ_FAILED)
        return Response(Status.OK, build_read_payload(encode_text_block(card), bytes(PHOTO_SIZE)))

    def _reply(self, response: Response) -> None:
        frame = response.encode()
        if "bad_checksum" in self.faults:
            frame = frame[:-1] + bytes([frame[-1] ^ 0xFF])
        if "garbage" in self.faults:
            # Line noise that holds a partial preamble, so the driver must resynchronise.
            frame = bytes.fromhex("00 FF AA 13 AA AA 96 37") + frame
        self.send(frame)
