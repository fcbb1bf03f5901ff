"""Serial rating keypads (评价器 on RS-232 / USB-serial) with a framed protocol.

The protocols of the evaluators sold to service halls are vendor-specific and not
public, so this package defines its own small protocol; a vendor's device is served by
firmware or a converter that speaks it, or by a new codec behind the same driver API.

Wire format (9600 baud 8N1 by default), every frame in both directions::

    STX  TYPE  PAYLOAD  ETX  BCC
    0x02 1 B   0..3 B   0x03 XOR of TYPE..ETX (inclusive)

TYPE is an ASCII letter and PAYLOAD printable ASCII, so STX and ETX never occur inside a
frame; BCC is the one byte after ETX and may take any value.

Host -> device:

- ``A`` arm: light the five keys and accept one press (一次一评).
- ``D`` disarm: keys dark, presses ignored.
- ``P`` ping: ask for the state.
- ``R`` + seq (2 upper-case hex digits): receipt of the press event ``seq``.

Device -> host:

- ``K`` + command letter + armed flag (``0``/``1``): acknowledgement of A, D or P.
- ``N`` + command letter, or ``?`` for an unreadable frame: refusal.
- ``E`` + level (``1``..``5``, 1 = 非常满意 ... 5 = 非常不满意) + seq (2 hex digits): a press.
  The device disarms itself after a press, then repeats the same event (same seq) every
  300 ms, at most 3 times, until it receives ``R`` + seq; the host drops repeated seqs.
  seq counts 00..FF and wraps.

Examples: arm ``02 41 03 42``; ack of arm while armed ``02 4B 41 31 03 38``; press of
level 2 with seq 0x0A ``02 45 32 30 41 03 05``; its receipt ``02 52 30 41 03 20``.
"""

from kiosk.devices.evaluator.codec import (
    AckFrame,
    Command,
    CommandFrame,
    Frame,
    FrameDecoder,
    NakFrame,
    PressFrame,
    ReceiptFrame,
    decode_frame,
    encode_frame,
)
from kiosk.devices.evaluator.driver import SerialEvaluator
from kiosk.devices.evaluator.errors import (
    EvaluatorConnectionError,
    EvaluatorError,
    EvaluatorProtocolError,
    EvaluatorTimeoutError,
)

__all__ = [
    "AckFrame",
    "Command",
    "CommandFrame",
    "EvaluatorConnectionError",
    "EvaluatorError",
    "EvaluatorProtocolError",
    "EvaluatorTimeoutError",
    "Frame",
    "FrameDecoder",
    "NakFrame",
    "PressFrame",
    "ReceiptFrame",
    "SerialEvaluator",
    "decode_frame",
    "encode_frame",
]
