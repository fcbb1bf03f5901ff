"""Exceptions of the resident ID-card reader package, one root: ``IdCardError``."""

from __future__ import annotations

from kiosk.devices.errors import DeviceConnectionError, DeviceError, DeviceProtocolError, DeviceTimeoutError


class IdCardError(DeviceError):
    """Root of every error raised by ``kiosk.devices.idcard``."""

    #: Short Chinese text for the staff or the citizen at the kiosk.
    hint_zh = "身份证读卡器故障"


class IdCardConnectionError(IdCardError, DeviceConnectionError):
    """The reader's port failed: missing, unplugged, I/O error."""

    hint_zh = "身份证读卡器未连接"


class IdCardTimeoutError(IdCardConnectionError, DeviceTimeoutError):
    """The reader did not answer in time."""

    hint_zh = "身份证读卡器无响应"


class IdCardProtocolError(IdCardError, DeviceProtocolError):
    """Bytes that do not make a valid frame or text block."""

    hint_zh = "身份证读卡器通信错误"


class FrameChecksumError(IdCardProtocolError):
    """A frame whose XOR checksum does not match."""


class FrameLengthError(IdCardProtocolError):
    """A frame whose LEN field or payload lengths are impossible."""


class TextBlockError(IdCardProtocolError):
    """The 256-byte text block does not follow the GA/T 490 layout."""

    hint_zh = "身份证信息无法识别"


class UnsupportedCardError(IdCardError):
    """A card with another text layout (foreigner's permanent-residence card)."""

    hint_zh = "暂不支持外国人永久居留身份证"


class InvalidIdNumberError(IdCardError):
    """An ID number whose GB 11643 check character is wrong (never carries the number)."""

    hint_zh = "身份证号码校验失败"


class IdentityFieldError(IdCardError, ValueError):
    """An identity field that cannot be written into the text block (too long, bad code)."""


class ReaderStatusError(IdCardError):
    """The reader answered with an SW3 status other than success."""

    status: int = 0x24
    description = "unknown error"

    def __init__(self, status: int | None = None) -> None:
        if status is not None:
            self.status = status
        super().__init__(f"reader status {self.status:02X}: {self.description}")


class ReaderChecksumError(ReaderStatusError):
    """SW3 10: the reader saw a bad checksum in our request."""

    status, description = 0x10, "checksum error in request"


class ReaderLengthError(ReaderStatusError):
    """SW3 11: the reader saw a bad length in our request."""

    status, description = 0x11, "length error in request"


class ReaderCommandError(ReaderStatusError):
    """SW3 21: the reader does not know the command."""

    status, description = 0x21, "command error"


class CardAuthError(ReaderStatusError):
    """SW3 31/32: card and reader failed to authenticate each other."""

    status, description = 0x31, "card/reader authentication failed"
    hint_zh = "身份证认证失败，请重新放置"


class DataVerificationError(ReaderStatusError):
    """SW3 33: the card data did not verify."""

    status, description = 0x33, "data verification error"
    hint_zh = "身份证信息校验失败，请重新放置"


class WrongCardTypeError(ReaderStatusError):
    """SW3 40: not a resident ID card."""

    status, description = 0x40, "wrong card type"
    hint_zh = "不是居民身份证"


class ReadFailedError(ReaderStatusError):
    """SW3 41: reading the card failed (often moved while reading)."""

    status, description = 0x41, "read failed"
    hint_zh = "读卡失败，请将身份证放稳后重试"


class RandomNumberError(ReaderStatusError):
    """SW3 47: the random-number step failed."""

    status, description = 0x47, "random number failed"


class SelfTestError(ReaderStatusError):
    """SW3 60: the SAM self-test failed."""

    status, description = 0x60, "SAM self-test failed"


class ReaderNotAuthorisedError(ReaderStatusError):
    """SW3 66: the reader is not authorised."""

    status, description = 0x66, "reader not authorised"


class NoCardError(ReaderStatusError):
    """SW3 80: no card on the reader."""

    status, description = 0x80, "no card found"
    hint_zh = "请放置身份证"


class SelectFailedError(ReaderStatusError):
    """SW3 81: selecting the card failed."""

    status, description = 0x81, "select failed"
    hint_zh = "选卡失败，请重新放置身份证"


STATUS_ERRORS: dict[int, type[ReaderStatusError]] = {
    0x10: ReaderChecksumError,
    0x11: ReaderLengthError,
    0x21: ReaderCommandError,
    0x24: ReaderStatusError,
    0x31: CardAuthError,
    0x32: CardAuthError,
    0x33: DataVerificationError,
    0x40: WrongCardTypeError,
    0x41: ReadFailedError,
    0x47: RandomNumberError,
    0x60: SelfTestError,
    0x66: ReaderNotAuthorisedError,
    0x80: NoCardError,
    0x81: SelectFailedError,
}


def error_for_status(status: int) -> ReaderStatusError:
    """The typed error for an SW3 status byte (unknown codes give ``ReaderStatusError``)."""
    return STATUS_ERRORS.get(status, ReaderStatusError)(status)
