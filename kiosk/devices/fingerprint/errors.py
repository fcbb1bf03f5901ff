"""Errors of the fingerprint package: one root, transport errors and one class per confirmation code."""

from __future__ import annotations

from kiosk.devices.errors import (
    DeviceConnectionError,
    DeviceError,
    DeviceProtocolError,
    DeviceTimeoutError,
)


class FingerprintError(DeviceError):
    """Root of every error raised by the fingerprint package."""

    message_zh = "指纹仪故障"


class FingerprintConnectionError(FingerprintError, DeviceConnectionError):
    """The serial port could not be opened, or failed while in use (unplugged)."""

    message_zh = "指纹仪未连接或连接中断"


class FingerprintTimeoutError(FingerprintConnectionError, DeviceTimeoutError):
    """The module did not answer in time."""

    message_zh = "指纹仪无应答"


class FingerprintProtocolError(FingerprintError, DeviceProtocolError):
    """The module answered with bytes that are not a valid packet."""

    message_zh = "指纹仪通信数据错误"


class ChecksumError(FingerprintProtocolError):
    """A packet arrived whose checksum does not match its content."""


class BadHeaderError(FingerprintProtocolError):
    """A packet started with the start code but had an impossible type or length."""


class LibraryFullError(FingerprintError):
    """Every page of the template library is taken."""

    message_zh = "指纹库已满"


class FingerNotLiftedError(FingerprintError):
    """During enrolment the finger stayed on the sensor when it had to be lifted."""

    message_zh = "请抬起手指后再次按压"


class ConfirmationError(FingerprintError):
    """The module answered a command with a non-zero confirmation code."""

    message_zh = "指纹仪返回错误"

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = code
        super().__init__(message or f"confirmation code 0x{code:02X}")


class PacketReceiveError(ConfirmationError):
    """01: the module could not receive the command packet."""

    message_zh = "指纹仪接收数据出错"


class NoFingerError(ConfirmationError):
    """02: no finger on the sensor."""

    message_zh = "未检测到手指，请按压指纹"


class ImageCaptureError(ConfirmationError):
    """03: the sensor failed to take the image."""

    message_zh = "指纹采集失败，请重新按压"


class PoorImageError(ConfirmationError):
    """06/07: the image is too messy or has too few feature points."""

    message_zh = "指纹图像不清晰，请擦净手指后重新按压"


class NoImageError(ConfirmationError):
    """15: no valid image in the image buffer."""

    message_zh = "没有有效的指纹图像"


class NoMatchError(ConfirmationError):
    """08: the two character buffers do not match."""

    message_zh = "指纹不匹配"


class FingerNotFoundError(ConfirmationError):
    """09: no enrolled template matches the finger."""

    message_zh = "指纹未登记"


class EnrollMismatchError(ConfirmationError):
    """0A: the two presses of an enrolment are not the same finger."""

    message_zh = "两次按压的指纹不一致，请重新登记"


class PageOutOfRangeError(ConfirmationError):
    """0B: the page id is beyond the template library."""

    message_zh = "指纹库位置超出范围"


class InvalidTemplateError(ConfirmationError):
    """0C: the template read from the library is invalid."""

    message_zh = "指纹模板无效"


class TransferError(ConfirmationError):
    """0D/0E/0F: uploading or receiving data packets failed."""

    message_zh = "指纹数据传输失败"


class StorageError(ConfirmationError):
    """10/11/18: deleting, emptying or writing the flash failed."""

    message_zh = "指纹库读写失败"


class WrongPasswordError(ConfirmationError):
    """13: the module password is wrong."""

    message_zh = "指纹仪密码错误"


class BadRegisterError(ConfirmationError):
    """1A: the system parameter number does not exist."""

    message_zh = "指纹仪参数号错误"


class AddressError(ConfirmationError):
    """20: the module address is wrong."""

    message_zh = "指纹仪地址错误"


class PasswordRequiredError(ConfirmationError):
    """21: the password must be verified before this command."""

    message_zh = "请先验证指纹仪密码"


# Confirmation code -> error class and English description (PROTOCOLS.md section 1).
CODE_ERRORS: dict[int, tuple[type[ConfirmationError], str]] = {
    0x01: (PacketReceiveError, "packet receive error"),
    0x02: (NoFingerError, "no finger on the sensor"),
    0x03: (ImageCaptureError, "failed to capture the image"),
    0x06: (PoorImageError, "image too messy"),
    0x07: (PoorImageError, "too few feature points"),
    0x08: (NoMatchError, "fingers do not match"),
    0x09: (FingerNotFoundError, "finger not found in the library"),
    0x0A: (EnrollMismatchError, "cannot combine the two presses"),
    0x0B: (PageOutOfRangeError, "page id out of range"),
    0x0C: (InvalidTemplateError, "invalid template"),
    0x0D: (TransferError, "template upload failed"),
    0x0E: (TransferError, "cannot receive the following packets"),
    0x0F: (TransferError, "image upload failed"),
    0x10: (StorageError, "delete failed"),
    0x11: (StorageError, "empty library failed"),
    0x13: (WrongPasswordError, "wrong password"),
    0x15: (NoImageError, "no valid image in the buffer"),
    0x18: (StorageError, "flash write error"),
    0x1A: (BadRegisterError, "bad register number"),
    0x20: (AddressError, "address error"),
    0x21: (PasswordRequiredError, "password must be verified first"),
}


def error_for_code(code: int) -> ConfirmationError:
    """The typed error for a non-zero confirmation code (unknown codes give ConfirmationError)."""
    cls, text = CODE_ERRORS.get(code, (ConfirmationError, "unknown confirmation code"))
    return cls(code, f"{text} (0x{code:02X})")
