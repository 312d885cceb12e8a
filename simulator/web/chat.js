"use strict";
const $ = (id) => document.getElementById(id);
const ACTIVE = new Set(["creator", "administrator", "member", "restricted"]);
let world = null;
let me = null;
let chatId = null;
let version = -1;
let replyTo = null;
let byId = new Map();
let pollSelections = {};
// Residents on WeChat (when the server has the WeChat view): who is open, and what we know.
let wx = null;
let wxAvailable = false;
let wxVersion = "";
let wxResidents = [];
let wxResidentsJson = "";
let wxCounts = {};
let wxAccount = { name: "公众号" };
let wxMenuJson = null;
// Working-group members on WeCom (when the server has the WeCom view): the same, for them.
let wc = null;
let wcAvailable = false;
let wcVersion = "";
let wcMembers = [];
let wcMembersJson = "";
let wcCounts = {};
let wcApp = { name: "企业微信" };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(explain(data, response.status));
  return data;
}

// The simulator refuses what Telegram refuses, in the Bot API's words; say it in Chinese too.
const REFUSALS = [
  ["message text is empty", "消息不能为空"],
  ["message is too long", "消息太长（Telegram 每条最多 4096 字）"],
  ["message caption is too long", "照片说明太长（最多 1024 字）"],
  ["file is too big", "文件太大（照片最多 10 MB）"],
  ["Request Entity Too Large", "文件太大"],
  ["file must be non-empty", "文件是空的"],
  ["IMAGE_PROCESS_FAILED", "这不是图片"],
  ["wrong latitude or longitude", "经纬度无效"],
];

function explain(data, status) {
  const description = (data && data.description) || ("HTTP " + status);
  const known = REFUSALS.find(([en]) => description.includes(en));
  return known ? known[1] + "（" + description + "）" : description;
}

let toastTimer = null;
function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 2500);
}

function userName(u) {
  if (!u) return "";
  return [u.first_name, u.last_name].filter(Boolean).join(" ") + (u.username ? " @" + u.username : "");
}

async function loadWorld() {
  world = await (await fetch("/ui/world")).json();
  await wxLoad();
  await wcLoad();
  fillWho();
  const savedMe = localStorage.getItem("standin.me") || "";
  const saved = Number(savedMe);
  me = world.users.some((u) => u.id === saved) ? saved : (world.users[0] || {}).id || null;
  const savedWx = savedMe.startsWith("wx:") ? savedMe.slice(3) : null;
  const savedWc = savedMe.startsWith("wc:") ? savedMe.slice(3) : null;
  if (savedWx && wxResidents.some((r) => r.openid === savedWx)) {
    openWeChat(savedWx);
  } else if (savedWc && wcMembers.some((m) => m.userid === savedWc)) {
    openWeCom(savedWc);
  } else {
    leaveWeChat();
    leaveWeCom();
    if (me !== null) $("who").value = String(me);
    fillChats();
  }
  const [lat, lon] = world.default_location;
  if (!$("lat").value) { $("lat").value = lat; $("lon").value = lon; }
  renderCommands();
  renderMap();
}

// Users are listed under their role (居民, 工作组成员, 管理员 …) when the host gave one,
// and residents on WeChat under 微信居民 when the server has the WeChat view.
function fillWho() {
  const who = $("who");
  const byRole = new Map();
  for (const u of world.users) {
    const role = (world.roles || {})[String(u.id)] || "用户";
    if (!byRole.has(role)) byRole.set(role, []);
    byRole.get(role).push(el("option", { value: u.id }, userName(u)));
  }
  const sections = [...byRole];
  if (wxAvailable) {
    sections.push(["微信居民", [
      ...wxResidents.map((r) => el("option", { value: "wx:" + r.openid, "data-base": r.name }, r.name)),
      el("option", { value: "wx:new" }, "＋新微信居民"),
    ]]);
  }
  if (wcAvailable && wcMembers.length) {
    sections.push(["企业微信成员", wcMembers.map((m) => {
      const base = m.name + (m.department ? "（" + m.department + "）" : "");
      return el("option", { value: "wc:" + m.userid, "data-base": base }, base);
    })]);
  }
  who.replaceChildren(...sections.map(([role, options]) =>
    sections.length > 1 ? el("optgroup", { label: role }, options) : options).flat());
  if (wx) who.value = "wx:" + wx;
  else if (wc) who.value = "wc:" + wc;
  else if (me !== null) who.value = String(me);
  wxMarkUnread();
  wcMarkUnread();
}

// The map is a sketch, not tiles (the simulator needs no network): the sample places are
// drawn on a street grid, and a click anywhere is turned into coordinates linearly.
function mapBounds() {
  const points = (world.places || []).map((p) => [p.latitude, p.longitude]);
  points.push(world.default_location);
  const lats = points.map((p) => p[0]);
  const lons = points.map((p) => p[1]);
  const pad = 0.004;
  return {
    north: Math.max(...lats) + pad, south: Math.min(...lats) - pad,
    west: Math.min(...lons) - pad, east: Math.max(...lons) + pad,
  };
}

function mapPosition(latitude, longitude) {
  const b = mapBounds();
  return {
    left: (100 * (longitude - b.west) / (b.east - b.west)) + "%",
    top: (100 * (b.north - latitude) / (b.north - b.south)) + "%",
  };
}

function placePin(latitude, longitude) {
  $("lat").value = latitude.toFixed(6);
  $("lon").value = longitude.toFixed(6);
  const pin = $("pin");
  Object.assign(pin.style, mapPosition(latitude, longitude));
  pin.hidden = false;
}

function renderMap() {
  const map = $("map");
  map.querySelectorAll(".spot").forEach((n) => n.remove());
  for (const p of world.places || []) {
    const spot = el("div", { class: "spot" }, p.name);
    Object.assign(spot.style, mapPosition(p.latitude, p.longitude));
    map.append(spot);
  }
  $("places").replaceChildren(...(world.places || []).map((p) =>
    el("button", { type: "button", onclick: () => placePin(p.latitude, p.longitude) }, p.name)));
}

function pickOnMap(ev) {
  const box = $("map").getBoundingClientRect();
  const b = mapBounds();
  const x = (ev.clientX - box.left) / box.width;
  const y = (ev.clientY - box.top) / box.height;
  placePin(b.north - y * (b.north - b.south), b.west + x * (b.east - b.west));
}

// Someone in exactly one group (a staff member) opens in its chat; residents (in none)
// and the admin (in every group) open in their private chat.
function homeChat() {
  const mine = world.groups.filter((g) => ACTIVE.has(g.members[String(me)]));
  return mine.length === 1 ? String(mine[0].id) : String(me);
}

function fillChats() {
  const select = $("chat");
  const options = [];
  if (me !== null) options.push(el("option", { value: me, "data-base": "与机器人私聊" }, "与机器人私聊"));
  for (const g of world.groups) {
    const status = g.members[String(me)];
    const label = "群：" + g.title + (ACTIVE.has(status) ? "" : "（未加入）");
    options.push(el("option", { value: g.id, "data-base": label }, label));
  }
  select.replaceChildren(...options);
  const saved = localStorage.getItem("standin.chat." + me) || homeChat();
  if (options.some((o) => o.value === saved)) select.value = saved;
  switchChat(Number(select.value));
}

function switchChat(id) {
  chatId = id;
  version = -1;
  replyTo = null;
  updateReplyBar();
  localStorage.setItem("standin.chat." + me, String(id));
  $("log").replaceChildren(el("div", { class: "empty" }, "加载中…"));
  refresh();
}

function renderCommands() {
  const box = $("cmds");
  const commands = (world && world.commands) || [];
  box.replaceChildren(...commands.map((c) =>
    el("div", { onclick: () => { box.hidden = true; sendText("/" + c.command); } },
      el("b", {}, "/" + c.command), c.description)));
  if (!commands.length) box.replaceChildren(el("div", {}, "机器人尚未设置命令菜单"));
}

function renderEntities(text, entities) {
  const frag = document.createDocumentFragment();
  if (!text) return frag;
  const list = (entities || []).filter((e) => e.length > 0);
  if (!list.length) { frag.append(text); return frag; }
  const cuts = new Set([0, text.length]);
  for (const e of list) { cuts.add(e.offset); cuts.add(Math.min(text.length, e.offset + e.length)); }
  const points = [...cuts].sort((a, b) => a - b);
  for (let i = 0; i + 1 < points.length; i++) {
    const start = points[i];
    const end = points[i + 1];
    let node = document.createTextNode(text.slice(start, end));
    const active = list.filter((e) => e.offset <= start && e.offset + e.length >= end)
      .sort((a, b) => b.offset - a.offset || a.length - b.length);
    for (const e of active) {
      let wrapper;
      switch (e.type) {
        case "bold": wrapper = el("b"); break;
        case "italic": wrapper = el("i"); break;
        case "underline": wrapper = el("u"); break;
        case "strikethrough": wrapper = el("s"); break;
        case "code": wrapper = el("code"); break;
        case "pre": wrapper = el("pre"); break;
        case "blockquote": case "expandable_blockquote": wrapper = el("blockquote"); break;
        case "spoiler": wrapper = el("span", { class: "spoiler", onclick: (ev) => ev.currentTarget.classList.toggle("shown") }); break;
        case "text_link":
          wrapper = /^https?:\/\//.test(e.url || "") ? el("a", { href: e.url, target: "_blank", rel: "noopener" }) : el("u");
          break;
        default: wrapper = null;
      }
      if (wrapper) { wrapper.append(node); node = wrapper; }
    }
    frag.append(node);
  }
  return frag;
}

function summary(m) {
  if (!m) return "";
  if (m.text) return m.text;
  if (m.photo) return "[照片] " + (m.caption || "");
  if (m.location) return "[位置]";
  if (m.document) return "[文件] " + (m.document.file_name || "");
  if (m.poll) return "[投票] " + m.poll.question;
  if (m.sticker) return "[贴纸] " + (m.sticker.emoji || "");
  if (m.voice) return "[语音]";
  if (m.video) return "[视频] " + (m.caption || "");
  if (m.contact) return "[联系人]";
  return "[消息]";
}

function renderPoll(m) {
  const p = m.poll;
  const votes = (m.ui_votes || {})[String(me)] || null;
  const showResults = p.is_closed || votes !== null;
  const correct = new Set(p.correct_option_ids || []);
  const sel = pollSelections[p.id] || (pollSelections[p.id] = new Set());
  const box = el("div", { class: "poll" },
    el("div", { class: "q" }, renderEntities(p.question, p.question_entities)),
    el("div", { class: "kind" },
      (p.type === "quiz" ? "测验" : "投票") + (p.is_anonymous ? " · 匿名" : "") +
      (p.allows_multiple_answers ? " · 多选" : "") + (p.is_closed ? " · 已结束" : "") +
      " · " + p.total_voter_count + " 人参与"));
  p.options.forEach((o, index) => {
    const classes = [];
    if (votes && votes.includes(index)) classes.push("chosen");
    if (p.type === "quiz" && showResults && correct.size) {
      if (correct.has(index)) classes.push("correct");
      else if (votes && votes.includes(index)) classes.push("wrong");
    }
    if (sel.has(index)) classes.push("chosen");
    const pct = p.total_voter_count ? Math.round(100 * o.voter_count / p.total_voter_count) : 0;
    box.append(el("button", {
      type: "button", class: classes.join(" "),
      disabled: p.is_closed || (votes !== null && !p.allows_revoting),
      onclick: () => {
        if (p.allows_multiple_answers) {
          if (sel.has(index)) sel.delete(index); else sel.add(index);
          version = -1; refresh();
        } else {
          vote(p.id, [index]);
        }
      },
    }, el("span", {}, o.text), el("span", {}, showResults ? pct + "%" : "")));
  });
  if (p.allows_multiple_answers && !p.is_closed) {
    box.append(el("div", { class: "ikb" }, el("div", { class: "row" },
      el("button", { type: "button", onclick: () => { vote(p.id, [...sel]); sel.clear(); } }, "提交投票"))));
  }
  if (p.type === "quiz" && showResults && p.explanation) {
    box.append(el("div", { class: "expl" }, "💡 ", renderEntities(p.explanation, p.explanation_entities)));
  }
  return box;
}

function renderInlineKeyboard(m) {
  const rows = (m.reply_markup && m.reply_markup.inline_keyboard) || [];
  if (!rows.length) return null;
  return el("div", { class: "ikb" }, rows.map((row) => el("div", { class: "row" }, row.map((b) => {
    if (b.url) return el("a", { href: b.url, target: "_blank", rel: "noopener" }, b.text + " ↗");
    if (b.callback_data !== undefined) {
      return el("button", { type: "button", onclick: (ev) => press(m, b.callback_data, ev.currentTarget) }, b.text);
    }
    return el("button", { type: "button", disabled: true }, b.text);
  }))));
}

function renderMessage(m) {
  const from = m.from || {};
  const isBot = !!from.is_bot;
  const mine = from.id === me;
  if (m.new_chat_members) {
    return el("div", { class: "msg system" }, m.new_chat_members.map(userName).join("、") + " 加入了群组");
  }
  const bubble = el("div", { class: "bubble" });
  const isGroup = m.chat && m.chat.type !== "private";
  if (!mine && (isBot || isGroup)) bubble.append(el("div", { class: "sender" }, isBot ? "🤖 " + from.first_name : userName(from)));
  if (m.reply_to_message) bubble.append(el("div", { class: "quote" }, summary(m.reply_to_message).slice(0, 80)));
  if (m.photo && m.photo.length) {
    const largest = m.photo[m.photo.length - 1];
    bubble.append(el("div", { class: "photo" }, el("img", { src: "/ui/file/" + encodeURIComponent(largest.file_id), alt: "照片", loading: "lazy" })));
  }
  if (m.venue) bubble.append(el("div", {}, "📍 " + m.venue.title, el("br"), m.venue.address));
  else if (m.location) bubble.append(el("div", {}, "📍 位置：" + m.location.latitude.toFixed(5) + ", " + m.location.longitude.toFixed(5)));
  if (m.document) bubble.append(el("div", {}, "📄 ", el("a", { href: "/ui/file/" + encodeURIComponent(m.document.file_id), target: "_blank" }, m.document.file_name || "文件")));
  if (m.sticker) bubble.append(el("div", { style: "font-size:48px" }, m.sticker.emoji || "🖼"));
  if (m.voice) bubble.append(el("div", {}, "🎤 语音 " + m.voice.duration + " 秒"));
  if (m.video) bubble.append(el("div", {}, "🎬 视频 " + m.video.duration + " 秒"));
  if (m.contact) bubble.append(el("div", {}, "👤 " + m.contact.first_name + " " + m.contact.phone_number));
  if (m.forward_origin) bubble.append(el("div", { class: "quote" }, "转发自 " + userName(m.forward_origin.sender_user)));
  if (m.text) bubble.append(el("div", { class: "text" }, renderEntities(m.text, m.entities)));
  if (m.caption) bubble.append(el("div", { class: "text" }, renderEntities(m.caption, m.caption_entities)));
  if (m.poll) bubble.append(renderPoll(m));
  const keyboard = renderInlineKeyboard(m);
  if (keyboard) bubble.append(keyboard);
  const when = new Date(m.date * 1000);
  const hhmm = String(when.getHours()).padStart(2, "0") + ":" + String(when.getMinutes()).padStart(2, "0");
  bubble.append(el("div", { class: "meta" },
    m.edit_date ? el("span", {}, "已编辑") : null,
    el("span", {}, hhmm),
    el("a", { onclick: () => { replyTo = m; updateReplyBar(); $("text").focus(); } }, "回复")));
  return el("div", { class: "msg" + (mine ? " mine" : "") + (isBot ? " bot" : "") }, bubble);
}

function renderReplyKeyboard(markup) {
  const box = $("kbd");
  if (!markup || !markup.keyboard) { box.replaceChildren(); return; }
  box.replaceChildren(...markup.keyboard.map((row) => el("div", { class: "row" }, row.map((button) => {
    const b = typeof button === "string" ? { text: button } : button;
    return el("button", {
      type: "button",
      onclick: () => {
        if (b.request_location) { $("locPanel").hidden = false; toast("在地图上点选位置（或选一个地点），再点「发送位置」"); }
        else if (b.request_contact) post("/ui/contact", { user_id: me, chat_id: chatId }).catch((e) => toast("发送失败：" + e.message));
        else sendText(b.text);
        if (markup.one_time_keyboard) box.replaceChildren();
      },
    }, b.text);
  }))));
}

// Like a Telegram client, a bot message sent with force_reply opens a reply to it (once).
const forceReplied = new Set();
function openForcedReply(state) {
  const last = state.messages[state.messages.length - 1];
  const forced = state.force_reply || {};
  const key = chatId + ":" + (last ? last.message_id : "");
  if (!last || !(String(last.message_id) in forced) || forceReplied.has(key)) return;
  forceReplied.add(key);
  replyTo = last;
  updateReplyBar(forced[String(last.message_id)]);
  $("text").focus();
}

function render(state) {
  const log = $("log");
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  byId = new Map(state.messages.map((m) => [m.message_id, m]));
  if (!state.messages.length) {
    log.replaceChildren(el("div", { class: "empty" }, "还没有消息。试试发送 /start"));
  } else {
    log.replaceChildren(...state.messages.map(renderMessage));
  }
  renderReplyKeyboard(state.reply_keyboard);
  openForcedReply(state);
  if (nearBottom) log.scrollTop = log.scrollHeight;
}

// Each person's other chats say how many messages came since they last looked there.
function markUnread(counts) {
  if (!counts || me === null) return;
  const key = "standin.seen." + world.instance + "." + me;
  const seen = JSON.parse(localStorage.getItem(key) || "{}");
  seen[String(chatId)] = counts[String(chatId)] || 0;
  localStorage.setItem(key, JSON.stringify(seen));
  for (const option of $("chat").options) {
    const unread = (counts[option.value] || 0) - (seen[option.value] || 0);
    const text = option.dataset.base + (unread > 0 ? "（" + unread + " 条新消息）" : "");
    if (option.textContent !== text) option.textContent = text;
  }
}

async function refresh() {
  if (chatId === null) return;
  const requested = chatId;
  try {
    const response = await fetch(`/ui/state?chat_id=${requested}&since=${version}`);
    const state = await response.json();
    if (requested !== chatId || state.unchanged || !state.messages) return;
    version = state.version;
    render(state);
    markUnread(state.counts);
  } catch (e) {
    /* the stand-in may be restarting; try again on the next tick */
  }
}

async function pollLoop() {
  await refresh();
  await wxRefresh();
  await wcRefresh();
  setTimeout(pollLoop, 700);
}

const DEFAULT_PLACEHOLDER = "输入消息…（Enter 发送，Shift+Enter 换行）";
function updateReplyBar(placeholder) {
  $("replyBar").hidden = !replyTo;
  $("replyText").textContent = replyTo ? "回复：" + summary(replyTo).slice(0, 60) : "";
  $("text").placeholder = (replyTo && placeholder) ? placeholder : DEFAULT_PLACEHOLDER;
}

async function sendText(text) {
  text = (text || "").trim();
  if (me === null) return;
  try {
    await post("/ui/send", { user_id: me, chat_id: chatId, text, reply_to: replyTo ? replyTo.message_id : null });
    replyTo = null; updateReplyBar();
    const log = $("log"); log.scrollTop = log.scrollHeight;
    refresh();
    return true;
  } catch (e) { toast("发送失败：" + e.message); return false; }
}

async function sendLocation() {
  const latitude = Number($("lat").value);
  const longitude = Number($("lon").value);
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) { toast("请填写有效的经纬度"); return; }
  try {
    await post("/ui/location", { user_id: me, chat_id: chatId, latitude, longitude, reply_to: replyTo ? replyTo.message_id : null });
    replyTo = null; updateReplyBar();
    $("locPanel").hidden = true;
    refresh();
  } catch (e) { toast("发送失败：" + e.message); }
}

async function press(m, data, button) {
  if (button) button.disabled = true;
  try {
    const result = await post("/ui/press", { user_id: me, chat_id: chatId, message_id: m.message_id, data });
    const answer = result.answer;
    if (answer && answer.text) {
      if (answer.show_alert) alert(answer.text); else toast(answer.text);
    } else if (!answer) {
      toast("机器人没有响应这个按钮");
    }
  } catch (e) { toast("操作失败：" + e.message); }
  finally { if (button) button.disabled = false; refresh(); }
}

async function vote(pollId, optionIds) {
  try { await post("/ui/poll", { user_id: me, poll_id: pollId, option_ids: optionIds }); }
  catch (e) { toast("投票失败：" + e.message); }
  version = -1; refresh();
}

$("who").addEventListener("change", async (ev) => {
  const value = ev.target.value;
  if (value === "wx:new") { await addWeChatResident(); return; }
  if (value.startsWith("wx:")) {
    localStorage.setItem("standin.me", value);
    openWeChat(value.slice(3));
    return;
  }
  if (value.startsWith("wc:")) {
    localStorage.setItem("standin.me", value);
    openWeCom(value.slice(3));
    return;
  }
  leaveWeChat();
  leaveWeCom();
  me = Number(value);
  localStorage.setItem("standin.me", String(me));
  fillChats();
});
$("chat").addEventListener("change", (ev) => switchChat(Number(ev.target.value)));
$("newUser").addEventListener("click", async () => {
  const name = prompt("新居民的名字：");
  if (!name) return;
  try {
    const user = await post("/ui/adduser", { first_name: name });
    localStorage.setItem("standin.me", String(user.id));
    await loadWorld();
  } catch (e) { toast("创建失败：" + e.message); }
});
// What was typed stays in the box when the simulator refuses it (too long, say).
async function sendTyped() {
  const box = $("text");
  if (wx) { await wxSendTyped("text", "text"); return; }
  if (wc) { await wcSendTyped(); return; }
  if (await sendText(box.value)) box.value = "";
}
$("send").addEventListener("click", sendTyped);
$("text").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault(); sendTyped();
  }
});
$("replyCancel").addEventListener("click", () => { replyTo = null; updateReplyBar(); });
$("locBtn").addEventListener("click", () => { $("locPanel").hidden = !$("locPanel").hidden; });
$("locSend").addEventListener("click", () => (wx ? wxSendLocation() : sendLocation()));
$("map").addEventListener("click", pickOnMap);
$("cmdBtn").addEventListener("click", async () => {
  world = await (await fetch("/ui/world")).json();
  renderCommands();
  $("cmds").hidden = !$("cmds").hidden;
});
async function uploadPhoto(blob, name) {
  if (wx) return wxSendPhoto(blob);
  const form = new FormData();
  form.append("user_id", String(me));
  form.append("chat_id", String(chatId));
  form.append("caption", $("text").value.trim());
  form.append("photo", blob, name);
  try {
    const response = await fetch("/ui/photo", { method: "POST", body: form });
    if (!response.ok) throw new Error(explain(await response.json().catch(() => ({})), response.status));
    $("text").value = "";
    refresh();
  } catch (e) { toast("上传失败：" + e.message); }
}

// Someone trying the demo on a server may have no picture at hand: draw a street scene.
function samplePhoto() {
  const canvas = el("canvas", { width: 320, height: 240 });
  const g = canvas.getContext("2d");
  const sky = g.createLinearGradient(0, 0, 0, 80);
  sky.addColorStop(0, "#8fb8e8"); sky.addColorStop(1, "#d4e6f7");
  g.fillStyle = sky; g.fillRect(0, 0, 320, 80);
  ["#c4b4a0", "#aab0be", "#cdc8b9", "#b9a890", "#a9b6c4"].forEach((colour, i) => {
    g.fillStyle = colour; g.fillRect(i * 64, 40 + (i % 2) * 14, 64, 120);
    g.fillStyle = "#7896be";
    for (let y = 60 + (i % 2) * 14; y < 150; y += 26) g.fillRect(i * 64 + 12, y, 14, 12), g.fillRect(i * 64 + 38, y, 14, 12);
  });
  g.fillStyle = "#467846"; g.fillRect(0, 150, 320, 16);
  g.fillStyle = "#9a9a98"; g.fillRect(0, 166, 320, 74);
  const litter = ["#e8e8ee", "#d9534f", "#f0c040", "#5aa0d8"];
  for (let i = 0; i < 14; i++) {
    g.fillStyle = litter[i % litter.length];
    g.fillRect(40 + ((i * 53) % 240), 180 + ((i * 29) % 45), 12 + (i % 3) * 8, 8 + (i % 2) * 6);
  }
  return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}

$("photo").addEventListener("change", async (ev) => {
  const file = ev.target.files[0];
  if (file) await uploadPhoto(file, file.name);
  ev.target.value = "";
});
$("samplePhoto").addEventListener("click", async () => uploadPhoto(await samplePhoto(), "sample.png"));

// ---------------------------------------------------------------- residents on WeChat
// A resident's conversation with the account, as WeChat shows it: what they sent in green,
// the account's messages in white, menu messages with blue items to tap, template messages
// as cards, the account's custom menu at the bottom. Each action is what WeChat's servers
// post to the bot; a refusal is said in Chinese and what was typed stays.

const WX_PLACEHOLDER = "输入消息…";
const WX_REFUSALS = [
  ["message text is empty", "不能发送空白消息"],
  ["message is too long", "消息太长"],
  ["unknown resident", "没有这位微信居民（请刷新页面）"],
  ["does not follow the account", "请先关注公众号"],
  ["name required", "请填写名字"],
  ["speech is empty", "请先在输入框里写下要说的话，再按 🎤 当作语音发送"],
  ["wrong latitude or longitude", "经纬度无效"],
  ["photo is not base64", "照片数据无效"],
  ["file must be non-empty", "文件是空的"],
  ["invalid file type", "只能发送 PNG、JPEG 或 GIF 图片"],
  ["invalid image size", "图片太大（最多 10 MB）"],
  ["menu no exist", "公众号还没有设置菜单"],
  ["no such menu button", "菜单已更新，没有这个按钮"],
  ["no such menu item", "这个选项已失效"],
  ["the account's server did not answer", "该公众号暂时无法提供服务，请稍后再试"],
  ["cross-origin request", "请求被拒绝（不是从本页面发出的）"],
  ["wrong Host header", "请求被拒绝（地址不对）"],
  ["Unsupported Media Type", "请求格式不对"],
  ["Request Entity Too Large", "文件太大"],
];

function wxExplain(data, status) {
  const description = (data && data.description) || ("HTTP " + status);
  const known = WX_REFUSALS.find(([en]) => description.includes(en));
  return known ? known[1] + "（" + description + "）" : description;
}

function wxTake(state) {
  wxAvailable = true;
  wxAccount = state.account || wxAccount;
  wxCounts = state.counts || {};
  const residents = JSON.stringify(state.residents || []);
  const changed = residents !== wxResidentsJson;
  wxResidents = state.residents || [];
  wxResidentsJson = residents;
  return changed;
}

async function wxLoad() {
  try {
    const response = await fetch("/ui/wechat/state");
    if (!response.ok) { wxAvailable = false; return; }
    const state = await response.json();
    wxTake(state);
    if (!wx) wxVersion = state.version;
  } catch (e) { wxAvailable = false; }
}

async function wxRefresh() {
  if (!wxAvailable) return;
  const requested = wx;
  try {
    const query = new URLSearchParams({ since: wxVersion });
    if (requested) query.set("openid", requested);
    const response = await fetch("/ui/wechat/state?" + query);
    const state = await response.json();
    if (requested !== wx || !response.ok || state.unchanged) return;
    wxVersion = state.version;
    if (wxTake(state)) fillWho();
    if (requested) wxRender(state);
    wxMarkUnread();
  } catch (e) {
    /* the stand-in may be restarting; try again on the next tick */
  }
}

function openWeChat(openid) {
  leaveWeCom();
  wx = openid;
  wxVersion = "";
  wxMenuJson = null;
  chatId = null;
  replyTo = null;
  updateReplyBar();
  document.body.classList.add("wechat");
  for (const id of ["chatLabel", "cmds", "cmdBtn", "replyBar"]) $(id).hidden = true;
  $("kbd").replaceChildren();
  for (const id of ["wxBar", "wxMenu", "voiceBtn"]) $(id).hidden = false;
  $("wxBar").textContent = wxAccount.name;
  $("text").placeholder = WX_PLACEHOLDER;
  $("who").value = "wx:" + openid;
  $("log").replaceChildren(el("div", { class: "empty" }, "加载中…"));
  wxRefresh();
}

function leaveWeChat() {
  if (!wx) return;
  wx = null;
  wxVersion = "";
  document.body.classList.remove("wechat");
  for (const id of ["chatLabel", "cmdBtn"]) $(id).hidden = false;
  for (const id of ["wxBar", "wxMenu", "voiceBtn"]) $(id).hidden = true;
  updateReplyBar();
}

async function addWeChatResident() {
  const name = prompt("新微信居民的名字（将关注公众号）：");
  if (!name) { $("who").value = wx ? "wx:" + wx : String(me); return; }
  let openid = null;
  try {
    const answer = await wxPost("residents", { name });
    openid = answer.result.openid;
  } catch (e) { toast("关注失败：" + e.message); }
  await wxLoad();
  fillWho();
  if (openid) { localStorage.setItem("standin.me", "wx:" + openid); openWeChat(openid); }
  else $("who").value = wx ? "wx:" + wx : String(me);
}

// Each resident in the list says how many messages came since we last looked at them.
function wxMarkUnread() {
  if (!world) return;
  const key = "standin.wxseen." + world.instance;
  const seen = JSON.parse(localStorage.getItem(key) || "{}");
  if (wx) { seen[wx] = wxCounts[wx] || 0; localStorage.setItem(key, JSON.stringify(seen)); }
  for (const option of $("who").options) {
    if (!option.value.startsWith("wx:") || option.value === "wx:new") continue;
    const openid = option.value.slice(3);
    const unread = (wxCounts[openid] || 0) - (seen[openid] || 0);
    const text = option.dataset.base + (unread > 0 ? "（" + unread + " 条新消息）" : "");
    if (option.textContent !== text) option.textContent = text;
  }
}

async function wxPost(action, body) {
  const response = await fetch("/ui/wechat/" + action, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(wxExplain(data, response.status));
  return data;
}

// One of the resident's actions; false (and the refusal shown) if it was refused.
async function wxAct(action, body) {
  if (!wx) return false;
  try {
    await wxPost(action, { openid: wx, ...body });
    const log = $("log"); log.scrollTop = log.scrollHeight;
    return true;
  } catch (e) {
    toast("发送失败：" + e.message);
    return false;
  } finally { wxRefresh(); }
}

async function wxSendLocation() {
  const latitude = Number($("lat").value);
  const longitude = Number($("lon").value);
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) { toast("请填写有效的经纬度"); return; }
  // A named spot of the map is sent with its name, as WeChat sends a chosen place's.
  const spot = (world.places || []).find((p) =>
    p.latitude.toFixed(6) === latitude.toFixed(6) && p.longitude.toFixed(6) === longitude.toFixed(6));
  if (await wxAct("location", { latitude, longitude, label: spot ? spot.name : "" })) {
    $("locPanel").hidden = true;
  }
}

async function wxSendPhoto(blob) {
  const data = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
  await wxAct("photo", { data });
}

function hhmm(seconds) {
  const when = new Date(seconds * 1000);
  return String(when.getHours()).padStart(2, "0") + ":" + String(when.getMinutes()).padStart(2, "0");
}

function safeUrl(url) {
  return /^https?:\/\//.test(url || "") ? url : null;
}

function wxEventText(m) {
  switch (m.event) {
    case "subscribe": return "你关注了公众号「" + wxAccount.name + "」";
    case "unsubscribe": return "你取消关注了公众号";
    case "CLICK": return "你点击了菜单「" + m.label + "」";
    case "VIEW": return "你打开了菜单「" + m.label + "」";
    default: return "事件：" + m.event;
  }
}

function wxTemplateCard(m) {
  const when = new Date(m.time * 1000);
  const url = safeUrl(m.url);
  return el("div", { class: "tcard" },
    el("div", { class: "ttitle" }, m.title || "服务通知"),
    el("div", { class: "tdate" }, (when.getMonth() + 1) + "月" + when.getDate() + "日"),
    m.first ? el("div", { class: "tfirst" }, m.first) : null,
    m.rows.map((r) => el("div", { class: "trow" },
      el("span", { class: "tlabel" }, r.label), el("span", { class: "tvalue" }, r.value))),
    m.remark ? el("div", { class: "tremark" }, m.remark) : null,
    url ? el("a", { class: "tmore", href: url, target: "_blank", rel: "noopener" }, "详情") : null);
}

function wxNewsCard(m) {
  const url = safeUrl(m.url);
  return el("div", { class: "tcard" },
    el("div", { class: "ttitle" }, m.title),
    m.description ? el("div", { class: "tfirst" }, m.description) : null,
    url ? el("a", { class: "tmore", href: url, target: "_blank", rel: "noopener" }, "阅读全文") : null);
}

function wxMessage(m) {
  if (m.kind === "event") return el("div", { class: "msg system" }, wxEventText(m));
  if (m.kind === "template") return el("div", { class: "msg card" }, wxTemplateCard(m));
  if (m.kind === "news") return el("div", { class: "msg card" }, wxNewsCard(m));
  const mine = m.side === "resident";
  const bubble = el("div", { class: "bubble" });
  if (m.kind === "text") bubble.append(el("div", { class: "text" }, m.text));
  else if (m.kind === "image") bubble.append(el("div", { class: "photo" }, el("img", { src: m.media, alt: "照片", loading: "lazy" })));
  else if (m.kind === "location") {
    bubble.append(el("div", { class: "loc" }, el("b", {}, "📍 " + (m.label || "位置")),
      el("div", {}, m.latitude.toFixed(5) + ", " + m.longitude.toFixed(5))));
  } else if (m.kind === "voice") {
    const speech = m.recognition || "";
    bubble.append(el("div", {}, "🔊 " + Math.max(1, Math.ceil(speech.length / 4)) + "″"));
    if (speech) bubble.append(el("div", { class: "asr" }, speech));
  } else if (m.kind === "msgmenu") {
    if (m.head) bubble.append(el("div", { class: "text" }, m.head));
    for (const item of m.items) {
      bubble.append(el("a", { class: "menuItem", tabindex: 0, onclick: () => wxAct("choose", { message: m.id, item: item.id }) }, item.content));
    }
    if (m.tail) bubble.append(el("div", { class: "text" }, m.tail));
  } else bubble.append(el("div", {}, "[" + m.kind + " 消息]"));
  const who = mine ? ((wxResidents.find((r) => r.openid === wx) || {}).name || "我") : wxAccount.name;
  const avatar = el("div", { class: "avatar" }, who.slice(0, 1));
  return el("div", { class: "msg" + (mine ? " mine" : "") }, mine ? [bubble, avatar] : [avatar, bubble]);
}

function wxRender(state) {
  const log = $("log");
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  $("wxBar").textContent = wxAccount.name;
  const rows = [];
  let last = null;
  for (const m of state.messages) {
    // Like WeChat, the time shows where five minutes or more passed.
    if (last === null || m.time - last >= 300) rows.push(el("div", { class: "msg system wxtime" }, hhmm(m.time)));
    last = m.time;
    rows.push(wxMessage(m));
    if (m.failed) rows.push(el("div", { class: "msg system", title: m.failed }, "该公众号暂时无法提供服务，请稍后再试"));
  }
  if (!rows.length) log.replaceChildren(el("div", { class: "empty" }, "还没有消息。发一句话试试"));
  else log.replaceChildren(...rows);
  wxRenderMenu(state.menu);
  if (nearBottom) log.scrollTop = log.scrollHeight;
}

function wxMenuAction(button) {
  if (button.type === "click") { wxAct("click", { key: button.key }); return; }
  const url = button.type === "view" ? safeUrl(button.url) : null;
  if (url) window.open(url, "_blank", "noopener");
  else toast("模拟聊天不支持这种菜单按钮（" + button.type + "）");
}

function wxRenderMenu(menu) {
  const json = JSON.stringify(menu || null);
  if (json === wxMenuJson) return;
  wxMenuJson = json;
  const bar = $("wxMenu");
  if (!menu || !(menu.button || []).length) {
    bar.replaceChildren(el("div", { class: "note" }, "公众号还没有设置菜单"));
    return;
  }
  const lists = [];
  bar.replaceChildren(...menu.button.map((b) => {
    const subs = b.sub_button || [];
    if (!subs.length) {
      return el("div", { class: "item" }, el("button", { type: "button", onclick: () => wxMenuAction(b) }, b.name));
    }
    const list = el("div", { class: "sub", hidden: true }, subs.map((s) =>
      el("button", { type: "button", onclick: () => { list.hidden = true; wxMenuAction(s); } }, s.name)));
    lists.push(list);
    const toggle = () => {
      const open = list.hidden;
      for (const other of lists) other.hidden = true;
      list.hidden = !open;
    };
    return el("div", { class: "item" }, list, el("button", { type: "button", onclick: toggle }, "☰ " + b.name));
  }));
}

// What was typed goes as a text, or as what WeChat recognised of a voice message; it stays
// in the box if refused, and so does what was typed meanwhile.
async function wxSendTyped(action, field) {
  const box = $("text");
  const typed = box.value;
  if (await wxAct(action, { [field]: typed }) && box.value === typed) box.value = "";
}

$("voiceBtn").addEventListener("click", () => wxSendTyped("voice", "recognition"));

// ---------------------------------------------------------------- members on WeCom
// A working-group member's chat with the app, as WeCom shows it: the app's name on top,
// its texts and template cards (title, rows, buttons; one greyed label once a card was
// answered), the member's texts on the right. A press or a text is what WeCom's servers
// post to the bot; a refusal is said in Chinese and what was typed stays.

const WC_PLACEHOLDER = "发消息给应用…";
const WC_REFUSALS = [
  ["message text is empty", "不能发送空白消息"],
  ["message is too long", "消息太长"],
  ["unknown member", "没有这位企业微信成员（请刷新页面）"],
  ["no such card", "找不到这张卡片"],
  ["the button can no longer be pressed", "这个按钮已失效"],
  ["the app's server did not answer", "应用暂时无法提供服务，请稍后再试"],
  ["cross-origin request", "请求被拒绝（不是从本页面发出的）"],
  ["wrong Host header", "请求被拒绝（地址不对）"],
  ["Unsupported Media Type", "请求格式不对"],
];

function wcExplain(data, status) {
  const description = (data && data.description) || ("HTTP " + status);
  const known = WC_REFUSALS.find(([en]) => description.includes(en));
  return known ? known[1] + "（" + description + "）" : description;
}

function wcTake(state) {
  wcAvailable = true;
  wcApp = state.app || wcApp;
  wcCounts = state.counts || {};
  const members = JSON.stringify(state.members || []);
  const changed = members !== wcMembersJson;
  wcMembers = state.members || [];
  wcMembersJson = members;
  return changed;
}

async function wcLoad() {
  try {
    const response = await fetch("/ui/wecom/state");
    if (!response.ok) { wcAvailable = false; return; }
    const state = await response.json();
    wcTake(state);
    if (!wc) wcVersion = state.version;
  } catch (e) { wcAvailable = false; }
}

async function wcRefresh() {
  if (!wcAvailable) return;
  const requested = wc;
  try {
    const query = new URLSearchParams({ since: wcVersion });
    if (requested) query.set("userid", requested);
    const response = await fetch("/ui/wecom/state?" + query);
    const state = await response.json();
    if (requested !== wc || !response.ok || state.unchanged) return;
    wcVersion = state.version;
    if (wcTake(state)) fillWho();
    if (requested) wcRender(state);
    wcMarkUnread();
  } catch (e) {
    /* the stand-in may be restarting; try again on the next tick */
  }
}

function openWeCom(userid) {
  leaveWeChat();
  wc = userid;
  wcVersion = "";
  chatId = null;
  replyTo = null;
  updateReplyBar();
  document.body.classList.add("wecom");
  for (const id of ["chatLabel", "cmds", "cmdBtn", "replyBar", "locPanel"]) $(id).hidden = true;
  $("kbd").replaceChildren();
  $("wxBar").hidden = false;
  $("wxBar").textContent = wcApp.name;
  $("text").placeholder = WC_PLACEHOLDER;
  $("who").value = "wc:" + userid;
  $("log").replaceChildren(el("div", { class: "empty" }, "加载中…"));
  wcRefresh();
}

function leaveWeCom() {
  if (!wc) return;
  wc = null;
  wcVersion = "";
  document.body.classList.remove("wecom");
  for (const id of ["chatLabel", "cmdBtn"]) $(id).hidden = false;
  $("wxBar").hidden = true;
  updateReplyBar();
}

// Each member in the list says how many messages came since we last looked at them.
function wcMarkUnread() {
  if (!world) return;
  const key = "standin.wcseen." + world.instance;
  const seen = JSON.parse(localStorage.getItem(key) || "{}");
  if (wc) { seen[wc] = wcCounts[wc] || 0; localStorage.setItem(key, JSON.stringify(seen)); }
  for (const option of $("who").options) {
    if (!option.value.startsWith("wc:")) continue;
    const userid = option.value.slice(3);
    const unread = (wcCounts[userid] || 0) - (seen[userid] || 0);
    const text = option.dataset.base + (unread > 0 ? "（" + unread + " 条新消息）" : "");
    if (option.textContent !== text) option.textContent = text;
  }
}

// One of the member's actions; false (and the refusal shown) if it was refused.
async function wcAct(action, body) {
  if (!wc) return false;
  try {
    const response = await fetch("/ui/wecom/" + action, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ userid: wc, ...body }),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(wcExplain(data, response.status));
    const log = $("log"); log.scrollTop = log.scrollHeight;
    return true;
  } catch (e) {
    toast((action === "press" ? "操作失败：" : "发送失败：") + e.message);
    return false;
  } finally { wcRefresh(); }
}

async function wcSendTyped() {
  const box = $("text");
  const typed = box.value;
  if (await wcAct("text", { text: typed }) && box.value === typed) box.value = "";
}

function wcCard(m) {
  const url = safeUrl(m.url);
  const buttons = m.replaced !== null && m.replaced !== undefined
    ? [el("button", { type: "button", class: "qbtn greyed", disabled: true }, m.replaced)]
    : m.buttons.map((b) => el("button", {
      type: "button",
      class: "qbtn" + (b.style === 1 ? " main" : ""),
      onclick: (ev) => { ev.currentTarget.disabled = true; wcAct("press", { message: m.id, key: b.key }); },
    }, b.text));
  return el("div", { class: "qcard" },
    m.source ? el("div", { class: "qsource" }, m.source) : null,
    el("div", { class: "qtitle" }, m.title),
    m.desc ? el("div", { class: "qdesc" }, m.desc) : null,
    m.subtitle ? el("div", { class: "qsub" }, m.subtitle) : null,
    m.rows.map((r) => {
      const link = safeUrl(r.url);
      return el("div", { class: "qrow" }, el("span", { class: "qlabel" }, r.label),
        link ? el("a", { class: "qvalue", href: link, target: "_blank", rel: "noopener" }, r.value)
          : el("span", { class: "qvalue" }, r.value));
    }),
    buttons.length ? el("div", { class: "qbuttons" }, buttons) : null,
    url ? el("a", { class: "qmore", href: url, target: "_blank", rel: "noopener" }, "查看详情") : null);
}

function wcMessage(m) {
  if (m.kind === "card") return el("div", { class: "msg card" }, wcCard(m));
  const mine = m.side === "member";
  const bubble = el("div", { class: "bubble" });
  if (m.kind === "text" || m.kind === "markdown") bubble.append(el("div", { class: "text" }, m.text));
  else bubble.append(el("div", {}, "[" + m.kind + " 消息]"));
  const who = mine ? ((wcMembers.find((x) => x.userid === wc) || {}).name || "我") : wcApp.name;
  const avatar = el("div", { class: "avatar" }, who.slice(0, 1));
  return el("div", { class: "msg" + (mine ? " mine" : "") }, mine ? [bubble, avatar] : [avatar, bubble]);
}

function wcRender(state) {
  const log = $("log");
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  $("wxBar").textContent = wcApp.name;
  const rows = [];
  let last = null;
  for (const m of state.messages) {
    if (last === null || m.time - last >= 300) rows.push(el("div", { class: "msg system wctime" }, hhmm(m.time)));
    last = m.time;
    rows.push(wcMessage(m));
    if (m.failed) rows.push(el("div", { class: "msg system", title: m.failed }, "应用暂时无法提供服务，请稍后再试"));
  }
  if (!rows.length) log.replaceChildren(el("div", { class: "empty" }, "还没有消息。工作组的工单卡片会出现在这里"));
  else log.replaceChildren(...rows);
  if (nearBottom) log.scrollTop = log.scrollHeight;
}

loadWorld().then(pollLoop).catch((e) => {
  $("log").replaceChildren(el("div", { class: "empty" }, "无法连接模拟服务器：" + e.message));
});
