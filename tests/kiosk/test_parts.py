"""Settings, the server's item list, and the card-lane view of an identity."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kiosk.cards import citizen_from
from kiosk.devices.idcard.simulator import load_identities
from kiosk.server_client import item_from_json
from kiosk.settings import DEMO_IDENTITIES, get_kiosk_settings
from kiosk.view import departments

pytestmark = pytest.mark.timeout(10)


def test_settings_require_a_device_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HALL_KIOSK_DEVICE_KEY", raising=False)
    with pytest.raises(ValueError, match="device_key is required"):
        get_kiosk_settings()
    settings = get_kiosk_settings(device_key="k", server_url="http://hall:8600/", printer_encoding="GBK")
    assert settings.server_url == "http://hall:8600" and settings.printer_encoding == "gbk"
    assert settings.priority_age == 70 and settings.idle_timeout_s == 60 and settings.http_host == "127.0.0.1"
    with pytest.raises(ValueError, match="encoding"):
        get_kiosk_settings(device_key="k", printer_encoding="latin-1")


def test_settings_from_toml_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(
        'device_key = "k"\nhall_name = "示范市政务服务中心"\npriority_age = 65\n', encoding="utf-8"
    )
    monkeypatch.setenv("HALL_KIOSK_PRIORITY_AGE", "75")
    settings = get_kiosk_settings(config)
    assert settings.hall_name == "示范市政务服务中心" and settings.priority_age == 75


def test_item_list_shapes() -> None:
    item = item_from_json(
        {
            "code": "GA01",
            "name": "居民身份证申领",
            "ticket_prefix": "A",
            "department": {"code": "GA", "name": "市公安局"},
            "materials": ["户口簿原件"],
            "waiting": 4,
        }
    )
    assert (item.department_code, item.department_name, item.materials, item.waiting) == (
        "GA",
        "市公安局",
        ("户口簿原件",),
        4,
    )
    flat = item_from_json({"code": "X1", "name": "n", "department": "SJ", "waiting_count": 2})
    assert (flat.department_code, flat.department_name, flat.waiting, flat.materials) == ("SJ", "SJ", 2, ())
    with pytest.raises(KeyError):
        item_from_json({"name": "no code"})
    assert departments([item, flat, item]) == [
        {"code": "GA", "name": "市公安局", "waiting": 8},
        {"code": "SJ", "name": "SJ", "waiting": 2},
    ]


def test_citizen_from_demo_identities() -> None:
    elder, adult, expired, _ = load_identities(DEMO_IDENTITIES)
    today = date(2026, 11, 23)
    assert citizen_from(elder, today).age == 76
    assert not citizen_from(adult, today).expired and citizen_from(expired, today).expired
    view = citizen_from(adult, today)
    assert view.masked == "340***********001X"
    assert "张伟" not in repr(view) and adult.id_number not in repr(view)
