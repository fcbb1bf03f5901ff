// Renders the state the kiosk process holds; every touch is sent to it as an event.
"use strict";

const POLL_MS = 400;
const SCREENS = ["welcome", "department", "items", "item", "card", "issuing", "ticket", "failure"];
const BACK_SCREENS = new Set(["department", "items", "item", "card"]);
const WELCOME_HINT = {
  sam: "70周岁及以上老人刷身份证取号，可走绿色通道优先办理；已预约的请点“预约取号”并刷身份证签到",
  // The card serial lane reads no birth date and no ID number: no age-based lane, no booking look-up.
  serial: "刷身份证取号可避免重复取号；70周岁及以上老人及已预约的群众请到咨询台办理",
};
let lastJson = "";
let lastTouch = 0;

// Kiosk mode: no context menu, no selection, no drag, no pinch, no browser shortcuts.
for (const type of ["contextmenu", "selectstart", "dragstart", "gesturestart"]) {
  document.addEventListener(type, (e) => e.preventDefault());
}
document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.altKey || e.metaKey || e.key === "F5" || e.key === "F11" || e.key === "Escape") {
    e.preventDefault();
  }
});
document.addEventListener("wheel", (e) => { if (e.ctrlKey) e.preventDefault(); }, { passive: false });
document.addEventListener("touchmove", (e) => { if (e.touches.length > 1) e.preventDefault(); }, { passive: false });

function el(id) { return document.getElementById(id); }

function text(id, value) { el(id).textContent = value == null ? "" : String(value); }

function show(id, visible) { el(id).hidden = !visible; }

async function send(event) {
  try {
    const r = await fetch("/api/event", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(event),
    });
    if (r.ok) render(await r.json());
  } catch (err) {
    // The local kiosk process restarts under systemd; the next poll picks it up again.
  }
}

function choiceButton(label, sub, event) {
  const b = document.createElement("button");
  b.className = "choice";
  b.dataset.code = event.code;
  const name = document.createElement("span");
  name.textContent = label;
  const small = document.createElement("small");
  small.textContent = sub;
  b.append(name, small);
  b.addEventListener("click", () => send(event));
  return b;
}

function fillList(id, entries) {
  const list = el(id);
  list.replaceChildren(...entries);
}

function renderItem(item) {
  text("item-name", item ? item.name : "");
  text("item-waiting", item ? item.waiting : 0);
  const materials = (item ? item.materials : []).map((m) => {
    const li = document.createElement("li");
    li.textContent = m;
    return li;
  });
  fillList("item-materials", materials);
}

function renderTicket(t) {
  if (!t) return;
  text("ticket-no", t.ticket_no);
  text("ticket-item", t.item_name);
  text("ticket-window", t.window_group);
  text("ticket-ahead", t.people_ahead);
  text("ticket-wait", t.estimated_wait_min);
  text("ticket-time", t.issued_at);
  text("ticket-citizen", t.citizen_masked ? "　身份证：" + t.citizen_masked : "");
  text("ticket-print", t.print_text);
  text("ticket-reissued", t.reissued_text);
  show("ticket-reissued", t.reissued);
  show("ticket-priority", t.priority);
  text("ticket-appointment", t.appointment_text);
  show("ticket-appointment", t.appointment);
}

function render(state) {
  const json = JSON.stringify(state);
  if (json === lastJson) return;
  lastJson = json;
  document.body.dataset.screen = state.screen;
  text("hall-name", state.hall_name);
  text("clock", state.clock);  // the hall's local time, whatever zone the browser runs in
  for (const name of SCREENS) show("screen-" + name, name === state.screen);
  show("btn-back", BACK_SCREENS.has(state.screen));
  show("btn-home", BACK_SCREENS.has(state.screen));  // ticket and failure screens have their own
  show("btn-done", state.screen === "ticket");
  text("countdown", state.seconds_left != null && state.screen !== "welcome"
    ? state.seconds_left + " 秒后自动返回首页" : "");
  const notice = state.printer_problem ? state.printer_problem + "，号票可能无法打印，请留意屏幕上的号码"
    : (!state.online ? "网络连接中断，部分功能暂不可用" : "");
  text("notice", notice);
  show("notice", Boolean(notice));

  if (state.screen === "welcome" && WELCOME_HINT[state.card_lane]) {
    text("welcome-hint", WELCOME_HINT[state.card_lane]);
  }
  if (state.screen === "department") {
    fillList("department-list", state.departments.map((d) =>
      choiceButton(d.name, "等候 " + d.waiting + " 人", { type: "department", code: d.code })));
  }
  if (state.screen === "items") {
    text("items-title", (state.department ? state.department.name + " · " : "") + "请选择办理事项");
    fillList("item-list", state.items.map((i) =>
      choiceButton(i.name, "等候 " + i.waiting + " 人", { type: "item", code: i.code })));
  }
  if (state.screen === "item") renderItem(state.item);
  if (state.screen === "card") {
    text("card-title", state.appointment ? "预约签到：请将身份证放在读卡区" : "请将身份证放在读卡区");
  }
  if (state.screen === "issuing") {
    text("issuing-citizen", state.citizen_masked ? "身份证：" + state.citizen_masked : "");
    show("issuing-priority", state.priority);
  }
  if (state.screen === "ticket") renderTicket(state.ticket);
  if (state.screen === "failure") {
    text("failure-message", state.message);
    show("btn-retry-card", state.failure === "card_unreadable");
    show("btn-failure-take", state.offer_ticket);
  }
}

async function poll() {
  try {
    const r = await fetch("/api/state", { cache: "no-store" });
    if (r.ok) render(await r.json());
  } catch (err) {
    // Keep showing the last screen while the local process restarts.
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

document.querySelectorAll("[data-event]").forEach((b) =>
  b.addEventListener("click", () => send({ type: b.dataset.event })));
// Any touch keeps the current screen from timing out (at most one event every 5 s).
document.addEventListener("pointerdown", () => {
  const now = Date.now();
  if (now - lastTouch > 5000) { lastTouch = now; send({ type: "touch" }); }
});

poll();
