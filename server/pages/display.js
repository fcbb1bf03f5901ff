// Hall display: live calls over server-sent events, waiting counts, and spoken calls played in turn.
"use strict";

const MAX_RECENT = 6;
const $ = (id) => document.getElementById(id);

// Announcements wait for each other: one never cuts another off.
const audioQueue = [];
let playing = false;
let soundOn = false;

function playNext() {
  if (playing || !soundOn || audioQueue.length === 0) return;
  playing = true;
  const audio = new Audio(audioQueue.shift());
  const done = () => { playing = false; playNext(); };
  audio.addEventListener("ended", done);
  audio.addEventListener("error", done);
  audio.play().catch(done);
}

function announce(call) {
  if (!soundOn) return; // nobody enabled sound: do not pile up stale calls
  audioQueue.push(`/api/v1/display/audio/${call.id}.wav`);
  playNext();
}

function renderCall(call) {
  const current = $("current");
  current.textContent = call.text;
  current.classList.remove("flash");
  void current.offsetWidth; // restart the animation
  current.classList.add("flash");
  const li = document.createElement("li");
  li.textContent = call.text + (call.kind === "recall" ? "（重呼）" : "");
  const recent = $("recent");
  recent.prepend(li);
  while (recent.children.length > MAX_RECENT) recent.lastChild.remove();
}

function renderSnapshot(snap) {
  if (snap.calls && snap.calls.length && $("recent").children.length === 0) {
    $("current").textContent = snap.calls[0].text;
    for (const call of snap.calls.slice(0, MAX_RECENT)) {
      const li = document.createElement("li");
      li.textContent = call.text;
      $("recent").append(li);
    }
  }
  const body = $("waiting");
  body.replaceChildren();
  for (const item of snap.waiting || []) {
    const tr = document.createElement("tr");
    for (const [text, cls] of [[item.prefix, ""], [item.name, ""], [`${item.waiting} 人`, "num"]]) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      tr.append(td);
    }
    body.append(tr);
  }
}

function tick() {
  const now = new Date();
  $("clock").textContent = now.toLocaleString("zh-CN", { hour12: false });
}

function connect() {
  const source = new EventSource("/api/v1/display/events");
  source.addEventListener("open", () => { $("link").textContent = "实时连接"; $("link").classList.remove("lost"); });
  source.addEventListener("error", () => { $("link").textContent = "连接中断，正在重连…"; $("link").classList.add("lost"); });
  source.addEventListener("snapshot", (e) => renderSnapshot(JSON.parse(e.data)));
  source.addEventListener("call", (e) => {
    const call = JSON.parse(e.data);
    renderCall(call);
    announce(call);
  });
}

// Browsers play sound only after a user gesture: staff press the button once when the screen starts.
$("sound").addEventListener("click", () => {
  soundOn = true;
  $("sound").classList.add("on");
  playNext();
});

fetch("/api/v1/display/snapshot").then((r) => r.json()).then((snap) => {
  if (snap.hall) $("hall").textContent = snap.hall;
}).catch(() => {});
tick();
setInterval(tick, 1000);
connect();
