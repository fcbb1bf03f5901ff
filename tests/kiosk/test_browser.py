"""The kiosk end to end: headless Chromium, a real server, simulated printer and card reader."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest

from tests.kiosk.harness import ARTIFACTS, HALL_NAME, KioskRig, eventually

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.timeout(120)]

ELDER, ADULT, EXPIRED = 0, 1, 2  # indexes into kiosk/screens/demo_identities.json
ELDER_ID, ADULT_ID = "11010519491231002X", "34052419800101001X"


def shot(page: Any, name: str) -> None:
    """Save a screenshot of the current screen under test-artifacts/."""
    page.screenshot(path=str(ARTIFACTS / f"kiosk-{name}.png"))


def open_kiosk(page: Any, rig: KioskRig) -> None:
    page.goto(rig.kiosk_url)
    page.wait_for_selector("#screen-welcome:visible")


def choose_item(page: Any, department: str, item: str, shots: bool = False) -> None:
    """Welcome -> department -> item (the item screen with its materials)."""
    page.click("#btn-start")
    page.wait_for_selector("#screen-department:visible")
    page.wait_for_selector(f"#department-list [data-code={department}]")
    if shots:
        shot(page, "department")
    page.click(f"#department-list [data-code={department}]")
    page.wait_for_selector(f"#item-list [data-code={item}]")
    if shots:
        shot(page, "items")
    page.click(f"#item-list [data-code={item}]")
    page.wait_for_selector("#screen-item:visible")


def ticket_on_screen(page: Any) -> dict[str, str]:
    page.wait_for_selector("#screen-ticket:visible")
    return {
        "number": page.inner_text("#ticket-no"),
        "item": page.inner_text("#ticket-item"),
        "window": page.inner_text("#ticket-window"),
        "ahead": page.inner_text("#ticket-ahead"),
        "wait": page.inner_text("#ticket-wait"),
        "time": page.inner_text("#ticket-time"),
    }


def assert_printed_as_shown(printed: str, shown: dict[str, str]) -> None:
    """The paper ticket says what the screen said."""
    lines = printed.splitlines()
    assert lines[0] == HALL_NAME
    assert shown["number"] in lines
    assert shown["item"] in lines
    assert f"请到：{shown['window']}" in lines
    assert f"取号时间：{shown['time']}" in lines
    assert f"前面等候：{shown['ahead']}人，预计约{shown['wait']}分钟" in lines


def test_ticket_without_card(rig: KioskRig, page: Any) -> None:
    rig.start_kiosk()
    open_kiosk(page, rig)
    assert page.inner_text("#hall-name") == HALL_NAME
    shot(page, "welcome")
    choose_item(page, "GA", "GA02", shots=True)
    materials = page.locator("#item-materials li").all_inner_texts()
    assert materials == ["户口簿原件", "居民身份证原件", "准迁证明", "房屋产权证明或租赁合同"]
    shot(page, "item")

    page.click("#btn-take")
    shown = ticket_on_screen(page)
    assert re.fullmatch(r"B\d{3}", shown["number"]) and shown["item"] == "户口迁移"
    page.wait_for_selector("#ticket-print:has-text('请取走号票')", timeout=30_000)
    assert page.locator("#ticket-priority").is_hidden()
    shot(page, "ticket")

    (printed,) = rig.printed()
    assert_printed_as_shown(printed, shown)
    for index, material in enumerate(materials, start=1):
        assert f"{index}. {material}" in printed
    (qr,) = re.findall(r"^\[QR\] (\S+)$", printed, re.M)
    assert "/t/" in qr and "身份证：" not in printed
    # The status page behind the QR code knows the ticket.
    status_page = httpx.get(f"{rig.server_url}/t/{qr.rsplit('/', 1)[1]}", timeout=5)
    assert status_page.status_code == 200 and shown["number"] in status_page.text
    # The server was told the ticket is on paper: nothing left in the kiosk's journal.
    eventually(lambda: not (rig.tmp / "kiosk" / "unprinted-kiosk-1.json").read_text().strip("[]\n "))

    page.click("#btn-done")
    page.wait_for_selector("#screen-welcome:visible")


def test_ticket_with_id_card_is_masked_and_reissued(rig: KioskRig, page: Any) -> None:
    rig.start_kiosk()
    open_kiosk(page, rig)
    choose_item(page, "RS", "RS01")
    page.click("#btn-card")
    page.wait_for_selector("#screen-card:visible")
    shot(page, "card")
    rig.sim("POST", "/sim/card/place", index=ADULT)
    shown = ticket_on_screen(page)
    assert "340***********001X" in page.inner_text("#ticket-citizen")
    assert page.locator("#ticket-priority").is_hidden() and page.locator("#ticket-reissued").is_hidden()
    assert ADULT_ID not in page.content() and "张伟" not in page.content()
    eventually(lambda: len(rig.printed()) == 1)
    printed = rig.printed()[0]
    assert_printed_as_shown(printed, shown)
    assert "身份证：340***********001X" in printed and ADULT_ID not in printed and "张伟" not in printed
    rig.sim("POST", "/sim/card/remove")
    time.sleep(1.0)  # the reader re-arms after it saw the card gone for two polls

    # The same card for the same item again: the same number, printed again.
    page.click("#btn-done")
    choose_item(page, "RS", "RS01")
    page.click("#btn-card")
    page.wait_for_selector("#screen-card:visible")
    rig.sim("POST", "/sim/card/place", index=ADULT)
    again = ticket_on_screen(page)
    assert again["number"] == shown["number"]
    page.wait_for_selector("#ticket-reissued:has-text('已为您重新打印原号')")
    shot(page, "reissued")
    eventually(lambda: len(rig.printed()) == 2)
    assert shown["number"] in rig.printed()[1].splitlines()


def test_elder_goes_to_the_priority_lane(rig: KioskRig, page: Any) -> None:
    rig.start_kiosk()
    open_kiosk(page, rig)
    choose_item(page, "RS", "RS03")
    page.click("#btn-take")  # someone already waiting without a card
    first = ticket_on_screen(page)
    page.click("#btn-done")
    choose_item(page, "RS", "RS03")
    page.click("#btn-card")
    page.wait_for_selector("#screen-card:visible")
    rig.sim("POST", "/sim/card/place", index=ELDER)
    shown = ticket_on_screen(page)
    assert page.locator("#ticket-priority").is_visible()
    assert "绿色通道" in page.inner_text("#ticket-priority")
    assert shown["number"] != first["number"] and shown["ahead"] == "0"  # served before the earlier ticket
    shot(page, "priority")
    eventually(lambda: len(rig.printed()) == 2)
    printed = rig.printed()[1]
    assert "【优先】" in printed.splitlines() and "身份证：110***********002X" in printed
    assert ELDER_ID not in printed


def test_expired_card_is_refused(rig: KioskRig, page: Any) -> None:
    rig.start_kiosk()
    open_kiosk(page, rig)
    choose_item(page, "GA", "GA03")
    page.click("#btn-card")
    page.wait_for_selector("#screen-card:visible")
    rig.sim("POST", "/sim/card/place", index=EXPIRED)
    page.wait_for_selector("#screen-failure:visible")
    assert "身份证已过期" in page.inner_text("#failure-message")
    shot(page, "card-expired")
    assert rig.printed() == []
    page.click("#btn-failure-home")
    page.wait_for_selector("#screen-welcome:visible")


def test_paper_out_keeps_the_number_and_prints_it_later(rig: KioskRig, page: Any) -> None:
    rig.start_kiosk()
    open_kiosk(page, rig)
    rig.sim("POST", "/sim/printer/fault", name="paper_out", on=True)
    eventually(lambda: rig.health()["printer_problem"] == "打印机缺纸")
    choose_item(page, "SJ", "SJ01")
    page.click("#btn-take")
    shown = ticket_on_screen(page)
    page.wait_for_selector("#ticket-print:has-text('打印机缺纸')")
    assert "您的号码已保留" in page.inner_text("#ticket-print")
    shot(page, "paper-out")
    assert rig.printed() == [] and rig.health()["unprinted"] == 1

    rig.sim("POST", "/sim/printer/fault", name="paper_out", on=False)
    page.wait_for_selector("#ticket-print:has-text('请取走号票')", timeout=30_000)
    (printed,) = eventually(rig.printed)
    assert_printed_as_shown(printed, shown)
    assert rig.health()["unprinted"] == 0

    # No number was wasted: the next ticket follows on.
    page.click("#btn-done")
    choose_item(page, "SJ", "SJ01")
    page.click("#btn-take")
    nxt = ticket_on_screen(page)
    assert int(nxt["number"][1:]) == int(shown["number"][1:]) + 1


def test_server_down_shows_the_failure_screen(rig: KioskRig, page: Any) -> None:
    rig.start_kiosk(failure_screen_s="5")
    open_kiosk(page, rig)
    rig.stop_server()
    choose_item(page, "GA", "GA01")
    page.click("#btn-take")
    page.wait_for_selector("#screen-failure:visible")
    assert "请到咨询台人工取号" in page.inner_text("#failure-message")
    shot(page, "server-down")
    assert rig.printed() == [] and rig.health()["status"] == "ok"
    # The failure screen times out back to the welcome screen.
    page.wait_for_selector("#screen-welcome:visible", timeout=10_000)


def test_page_is_locked_down_for_kiosk_mode(rig: KioskRig, page: Any) -> None:
    rig.start_kiosk()
    open_kiosk(page, rig)
    allowed = page.evaluate(
        "() => document.body.dispatchEvent(new MouseEvent('contextmenu', {bubbles: true, cancelable: true}))"
    )
    assert allowed is False
    assert page.evaluate("() => getComputedStyle(document.body).userSelect") == "none"
    # The local API refuses what the page would never send.
    bad = httpx.post(f"{rig.kiosk_url}/api/event", json={"type": "item", "code": "NOPE"}, timeout=5)
    assert bad.status_code == 404
    assert httpx.post(f"{rig.kiosk_url}/api/event", json={"type": "explode"}, timeout=5).status_code == 422
