/*
 * Clinic chat widget: one script tag and one stylesheet, no framework, no build step.
 *
 *   <link rel="stylesheet" href="/clinic-chat.css">
 *   <script src="/clinic-chat.js" data-server-url="https://chat.example.org"
 *           data-title="Clinic assistant" data-phone="415-249-2580" defer></script>
 *
 * Talks to Rasa's REST channel (POST {server}/webhooks/rest/webhook); a click on the booking
 * link or the clinic's phone number is counted (POST {server}/webhooks/rest/link-click with
 * {"link": "booking" | "phone"} only). Each message carries a `message_id` (a random UUID, the
 * same for its every retry): after a network error, a time-out or a 502/503/504 the widget
 * sends it again by itself (config.retryDelaysMs), and the server answers a repeated id from
 * what it stored without running the turn twice; the visitor sees an error only when every
 * attempt failed. Message text is always
 * rendered as text (textContent); links are built as DOM nodes, never from HTML strings.
 * See README.md in this folder for every attribute.
 */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector("script[data-server-url]");
  var data = (script && script.dataset) || {};
  var config = {
    serverUrl: (data.serverUrl || "").replace(/\/+$/, ""),
    title: data.title || "Clinic assistant",
    primaryColor: data.primaryColor || "",
    greeting: data.greeting || "hi",
    phone: data.phone || "",
    storageKey: data.storageKey || "clinic-chat",
    timeoutMs: 45000,
    // After a failed attempt that may succeed if sent again, wait this long (plus up to a
    // quarter more, at random, so that many widgets do not come back at once), then retry.
    retryDelaysMs: [1000, 2000, 4000],
    maxMessages: 200
  };
  var URL_PATTERN = /https?:\/\/[^\s<>"']+/g;
  // Phone numbers in text (clinic/phone.py's shapes: "415-249-2580", "(415) 249-2580",
  // "+1 415.249.2580", "+44 20 7946 0958"), not glued to a word or a path. Each is shown in a
  // no-wrap span so that it never breaks across two lines ("415-249-" / "2580"). No
  // lookbehind: older Safari cannot parse it.
  var PHONE_PATTERN = /(^|[^\w\/])((?:\+?1[ .\-]?)?(?:\(\d{3}\) ?|\d{3}[ .\-]?)\d{3}[ .\-]?\d{4}|\+\d{1,3}(?:[ .\-]?\(?\d{1,5}\)?){1,6})(?![\w\/])/g;
  var NEW_TAB = " (opens in a new tab)";
  // Thumbs drawn as SVG (Material icons' paths), not emoji: they look the same everywhere,
  // with no emoji font needed.
  var RATINGS = [
    { value: "up", label: "This answer helped",
      icon: "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z" },
    { value: "down", label: "This answer did not help",
      icon: "M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 4.57-.03.32c0 .41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z" }
  ];
  var uid = 0;

  // ---- storage: sender id, transcript and open state survive reloads and other pages ----
  var memory = {};
  function load() {
    var raw = null;
    try { raw = window.localStorage.getItem(config.storageKey); } catch (e) { raw = memory.v; }
    try {
      var parsed = JSON.parse(raw);
      if (parsed && typeof parsed.senderId === "string" && Array.isArray(parsed.messages)) {
        return parsed;
      }
    } catch (e) { /* start afresh below */ }
    return { senderId: newSenderId(), messages: [], open: false };
  }
  function save() {
    state.messages = state.messages.slice(-config.maxMessages);
    var raw = JSON.stringify(state);
    try { window.localStorage.setItem(config.storageKey, raw); } catch (e) { memory.v = raw; }
  }
  // A random id: a UUID, or 32 hex digits where randomUUID is missing (plain http pages).
  function randomId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  function newSenderId() { return "web-" + randomId(); }
  function telLink(phone) {
    var digits = phone.replace(/\D/g, "");
    if (digits.length === 10) digits = "1" + digits;
    return "tel:+" + digits;
  }

  // ---- DOM helpers ----
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }
  function srOnly(text) { return el("span", "cc-sr-only", text); }
  function icon(paths) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    paths.forEach(function (d) {
      var path = document.createElementNS(ns, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }
  // Link buttons: web_url opens a page in a new tab; phone (tel:) and sms (sms:, e.g. the
  // Crisis Text Line with its body filled in) open the phone's dialer or messages app.
  var APP_LINKS = { phone: /^tel:[+\d]+$/i, sms: /^sms:[+\d]+(\?&?body=[\w%+.-]*)?$/i };
  function safeHref(url, type) {
    url = String(url || "").trim();
    if (type === "phone" && !/^tel:/i.test(url)) url = telLink(url);
    if (APP_LINKS[type]) return APP_LINKS[type].test(url) ? url : null;
    return /^https?:\/\//i.test(url) ? url : null;
  }
  // The ways to the clinic whose clicks the staff's dashboard counts: the booking link and the
  // clinic's own phone number. Crisis lines (911, 988, 741741: 3 and 6 digits, or sms) never.
  function countedLink(type, href) {
    if (type === "web_url") return "booking";
    if (type === "phone" && href.replace(/\D/g, "").length >= 7) return "phone";
    return null;
  }
  // Fire and forget: the link opens at once whatever becomes of this request. Only which link:
  // no conversation id, no text. A text/plain body needs no CORS preflight.
  function countClick(link) {
    var url = config.serverUrl + "/webhooks/rest/link-click";
    var body = JSON.stringify({ link: link });
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
      fetch(url, { method: "POST", body: body, keepalive: true }).catch(function () {});
    } catch (e) { /* not counted; the link still opens */ }
  }
  function externalLink(href, className, label) {
    var a = el("a", className, label);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.appendChild(srOnly(NEW_TAB));
    return a;
  }
  // Text with each phone number in a no-wrap span (see PHONE_PATTERN), built node by node.
  function textWithPhones(target, text) {
    var last = 0;
    String(text).replace(PHONE_PATTERN, function (match, before, phone, offset) {
      var digits = phone.replace(/\D/g, "").length;
      if (phone.charAt(0) === "+" && !/^\+1\b/.test(phone) && (digits < 8 || digits > 15)) {
        return match;
      }
      var start = offset + before.length;
      target.appendChild(document.createTextNode(text.slice(last, start)));
      target.appendChild(el("span", "cc-nowrap", phone));
      last = start + phone.length;
      return match;
    });
    target.appendChild(document.createTextNode(text.slice(last)));
    return target;
  }
  // Text with its http(s) URLs turned into links and its phone numbers kept on one line.
  function richText(target, text) {
    var last = 0;
    text = String(text);
    text.replace(URL_PATTERN, function (match, offset) {
      var url = match.replace(/[.,;:!?)\]]+$/, "");
      textWithPhones(target, text.slice(last, offset));
      target.appendChild(externalLink(url, "cc-inline-link", url));
      last = offset + url.length;
      return match;
    });
    textWithPhones(target, text.slice(last));
  }

  // ---- the widget's elements ----
  var state = load();
  var busy = false;
  var panelId = "cc-panel-" + Math.random().toString(36).slice(2, 8);
  var root = el("div", "cc-root");
  if (config.primaryColor && window.CSS && CSS.supports("color", config.primaryColor)) {
    root.style.setProperty("--cc-primary", config.primaryColor);
  }

  var launcher = el("button", "cc-launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", panelId);
  launcher.appendChild(icon(["M4 4h16v11H8l-4 4z"]));
  launcher.appendChild(el("span", "cc-launcher-label", "Chat with us"));

  var panel = el("section", "cc-panel");
  panel.id = panelId;
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", config.title);

  var header = el("div", "cc-header");
  var heading = el("div", "cc-heading");
  heading.appendChild(el("h2", "cc-title", config.title));
  heading.appendChild(el("p", "cc-subtitle", "Automated assistant, not a clinician"));
  var restartButton = el("button", "cc-icon-button cc-restart");
  restartButton.type = "button";
  restartButton.setAttribute("aria-label", "Start a new conversation");
  restartButton.title = "Start a new conversation";
  restartButton.appendChild(icon(["M12 5V2L7 6l5 4V7a6 6 0 1 1-6 6H4a8 8 0 1 0 8-8z"]));
  var closeButton = el("button", "cc-icon-button cc-close");
  closeButton.type = "button";
  closeButton.setAttribute("aria-label", "Close chat");
  closeButton.title = "Close chat";
  closeButton.appendChild(icon(["M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z"]));
  header.appendChild(heading);
  header.appendChild(restartButton);
  header.appendChild(closeButton);

  var notice = el("p", "cc-notice",
    "In a crisis or emergency, call 911, or call or text 988. This chat is not watched live.");

  var log = el("div", "cc-messages");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "Conversation");
  log.tabIndex = 0;

  var form = el("form", "cc-form");
  var inputId = "cc-input-" + panelId;
  var label = el("label", "cc-sr-only", "Type your message");
  label.htmlFor = inputId;
  var input = el("input", "cc-input");
  input.id = inputId;
  input.type = "text";
  input.autocomplete = "off";
  input.maxLength = 1000;
  input.placeholder = "Type your question…";
  var sendButton = el("button", "cc-send", "Send");
  sendButton.type = "submit";
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(sendButton);

  panel.appendChild(header);
  panel.appendChild(notice);
  panel.appendChild(log);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(launcher);

  // ---- rendering ----
  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function renderIntro() {
    var intro = el("div", "cc-intro");
    intro.appendChild(el("p", null,
      "Hello! Ask me about ketamine infusion therapy, or get help booking a consultation."));
    var hello = el("button", "cc-quick", "Say hello");
    hello.type = "button";
    hello.addEventListener("click", function () { send(config.greeting, config.greeting); });
    intro.appendChild(hello);
    log.appendChild(intro);
  }

  function renderButtons(bubble, buttons, withQuickReplies) {
    var links = el("div", "cc-links");
    var quick = el("div", "cc-quick-replies");
    quick.setAttribute("role", "group");
    quick.setAttribute("aria-label", "Suggestions");
    (buttons || []).forEach(function (b) {
      if (!b || !b.title) return;
      if (b.type === "web_url" || APP_LINKS[b.type]) {
        var href = safeHref(b.url, b.type);
        if (!href) return;
        var a = APP_LINKS[b.type] ? textWithPhones(el("a", "cc-link-button"), b.title)
          : externalLink(href, "cc-link-button", b.title);
        a.href = href;
        var counted = countedLink(b.type, href);
        if (counted) a.addEventListener("click", function () { countClick(counted); });
        links.appendChild(a);
      } else if (withQuickReplies && b.payload) {
        var q = el("button", "cc-quick", b.title);
        q.type = "button";
        q.addEventListener("click", function () { send(b.payload, b.title); });
        quick.appendChild(q);
      }
    });
    if (links.childNodes.length) bubble.appendChild(links);
    if (quick.childNodes.length) log.appendChild(quick);
  }

  // Thumbs up/down under an answer. Only the latest answer can be rated (a rating is counted
  // for the answer just before it); a rating given stays shown, marked chosen.
  function renderFeedback(message, isLatestTurn) {
    if (!message.rate || (!message.rating && !isLatestTurn)) return;
    var box = el("div", "cc-feedback");
    var labelId = "cc-rate-" + (++uid) + "-" + panelId;
    var question = el("span", "cc-feedback-label", "Did this answer help?");
    question.id = labelId;
    box.setAttribute("role", "group");
    box.setAttribute("aria-labelledby", labelId);
    box.appendChild(question);
    RATINGS.forEach(function (rating) {
      var button = el("button", "cc-thumb");
      button.type = "button";
      button.setAttribute("aria-label", rating.label);
      button.title = rating.label;
      button.setAttribute("aria-pressed", "false");
      button.dataset.rating = rating.value;
      button.appendChild(icon([rating.icon]));
      button.addEventListener("click", function () { sendFeedback(message, rating.value, box); });
      box.appendChild(button);
    });
    if (message.rating) markRated(box, message.rating);
    log.appendChild(box);
  }

  function markRated(box, value) {
    box.classList.add("cc-rated");
    Array.prototype.forEach.call(box.querySelectorAll(".cc-thumb"), function (button) {
      var chosen = button.dataset.rating === value;
      button.setAttribute("aria-pressed", String(chosen));
      button.setAttribute("aria-disabled", "true"); // not `disabled`: the focus stays put
      button.classList.toggle("cc-chosen", chosen);
    });
    var status = box.querySelector(".cc-feedback-status");
    if (status) status.remove();
  }

  function renderMessage(message, isLatestTurn) {
    var fromUser = message.from === "user";
    var row = el("div", "cc-msg " + (fromUser ? "cc-msg-user" : "cc-msg-bot"));
    var bubble = el("div", "cc-bubble");
    bubble.appendChild(srOnly(fromUser ? "You said: " : "Assistant said: "));
    var body = el("p", "cc-text");
    richText(body, message.text || "");
    bubble.appendChild(body);
    row.appendChild(bubble);
    log.appendChild(row);
    if (fromUser && message.failed) markFailed(row);
    if (!fromUser) renderFeedback(message, isLatestTurn);
    if (!fromUser) renderButtons(bubble, message.buttons, isLatestTurn);
    return row;
  }

  function markFailed(row) {
    row.classList.add("cc-failed");
    if (!row.querySelector(".cc-status")) row.appendChild(el("span", "cc-status", "Not sent"));
  }

  function renderError(message, row) {
    var box = el("div", "cc-error");
    box.setAttribute("role", "alert");
    var p = el("p", null, "Sorry, we couldn't reach our assistant just now. Your message is kept: " +
      "press Retry to send it again");
    if (config.phone) {
      p.appendChild(document.createTextNode(", or call us at "));
      var tel = el("a", "cc-inline-link cc-nowrap", config.phone);
      tel.href = telLink(config.phone);
      p.appendChild(tel);
    }
    p.appendChild(document.createTextNode("."));
    var retry = el("button", "cc-retry", "Retry");
    retry.type = "button";
    retry.addEventListener("click", function () {
      if (busy) return;
      box.remove();
      row.remove();
      var index = state.messages.indexOf(message);
      if (index >= 0) state.messages.splice(index, 1);
      send(message.payload || message.text, message.text, message.id);
    });
    box.appendChild(p);
    box.appendChild(retry);
    log.appendChild(box);
  }

  function renderAll() {
    log.textContent = "";
    if (!state.messages.length) renderIntro();
    var lastUser = -1;
    state.messages.forEach(function (m, i) { if (m.from === "user") lastUser = i; });
    state.messages.forEach(function (m, i) {
      var row = renderMessage(m, i > lastUser);
      if (m.failed && i === state.messages.length - 1) renderError(m, row);
    });
    scrollDown();
  }

  // ---- talking to Rasa ----
  // Statuses that say the server (or the proxy before it) could not answer this time: a server
  // that died or restarts (502, 503) or is too slow (504). Sent again, with the same id.
  var RETRIED_STATUSES = [502, 503, 504];
  function retryable(error) {
    error.retryable = true;
    return error;
  }

  // POST one message once; resolves with the replies, rejects on a network error, a time-out,
  // a non-2xx answer or no reply at all (`retryable` set on the first three kinds).
  function postOnce(payload, messageId) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (controller) controller.abort(); }, config.timeoutMs);
    return fetch(config.serverUrl + "/webhooks/rest/webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: state.senderId, message: payload, message_id: messageId }),
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      var error = new Error("HTTP " + response.status);
      if (RETRIED_STATUSES.indexOf(response.status) >= 0) throw retryable(error);
      if (!response.ok) throw error;
      return response.json().catch(function (e) { throw retryable(e); }); // cut off mid-body
    }, function (error) {
      throw retryable(error); // no answer: the network, or our time-out's abort
    }).then(function (replies) {
      // Every message gets at least one reply; none means a part of the server (the action
      // server) failed: show the error with the phone number rather than silence.
      if (!Array.isArray(replies) || !replies.length) throw new Error("no reply");
      return replies;
    }).then(function (replies) {
      clearTimeout(timer);
      return replies;
    }, function (error) {
      clearTimeout(timer);
      throw error;
    });
  }

  // POST one message, sending it again after a retryable failure (see config.retryDelaysMs),
  // with the same id: the server runs a message id's turn once, so a retry of a message whose
  // answer was lost on the way gets that answer. Stops when `wanted()` turns false (the
  // visitor started a new conversation).
  function post(payload, messageId, wanted) {
    var attempt = 0;
    function tryOnce() {
      return postOnce(payload, messageId).catch(function (error) {
        var delay = config.retryDelaysMs[attempt++];
        if (!error.retryable || delay === undefined || !wanted()) throw error;
        return new Promise(function (resolve) {
          setTimeout(resolve, delay * (1 + Math.random() / 4));
        }).then(function () {
          if (!wanted()) throw error;
          return tryOnce();
        });
      });
    }
    return tryOnce();
  }

  // The replies as messages to keep. A reply's `custom` data comes from domain.yml:
  // {ask_rating: false} means small talk, not an answer to rate; {crisis: true} means crisis
  // resources were given, and this visitor is never asked to rate anything again.
  function botMessages(replies, rateable) {
    var messages = [];
    replies.forEach(function (reply) {
      if (!reply) return;
      var custom = reply.custom;
      if (custom && typeof custom === "object") {
        if (custom.crisis) state.noRating = true;
        if (custom.ask_rating === false) rateable = false;
      }
      if (!reply.text && !reply.buttons) return;
      var bot = { from: "bot", text: reply.text || "" };
      if (Array.isArray(reply.buttons) && reply.buttons.length) bot.buttons = reply.buttons;
      messages.push(bot);
    });
    if (rateable && !state.noRating && messages.length) messages[0].rate = true;
    return messages;
  }

  function showTyping() {
    var typing = el("div", "cc-typing");
    typing.appendChild(srOnly("The assistant is typing"));
    for (var i = 0; i < 3; i++) typing.appendChild(el("span", "cc-dot"));
    log.appendChild(typing);
    scrollDown();
    return typing;
  }

  // One turn with the server while the typing dots show: the replies are kept and shown
  // (`rateable`: see botMessages) after `answered()`, or `failed()` runs. The caller has set
  // `busy`; a restart meanwhile drops the outcome, as the conversation is no longer shown.
  function exchange(payload, messageId, rateable, answered, failed) {
    var conversation = state;
    var typing = showTyping();
    var wanted = function () { return state === conversation; };
    post(payload, messageId, wanted).then(function (replies) {
      typing.remove();
      if (state !== conversation) return;
      answered();
      botMessages(replies, rateable).forEach(function (bot) {
        state.messages.push(bot);
        renderMessage(bot, true);
      });
      save();
    }).catch(function () {
      typing.remove();
      if (state !== conversation) return;
      failed();
    }).then(function () {
      if (state === conversation) busy = false;
      scrollDown();
    });
  }

  // A rating is sent as Rasa's intent syntax, not shown as the visitor's message; the
  // assistant's short thanks is. The chat channel takes only the payloads of
  // clinic/buttons.py (BUTTON_INTENTS: feedback, its rating "up" or "down") as intents;
  // tests/test_payloads.py checks this script against it.
  function sendFeedback(message, value, box) {
    if (busy || message.rating) return;
    busy = true;
    var status = box.querySelector(".cc-feedback-status");
    if (status) status.remove();
    exchange("/feedback" + JSON.stringify({ rating: value }), randomId(), false, function () {
      message.rating = value;
      markRated(box, value);
    }, function () {
      box.appendChild(el("span", "cc-feedback-status",
        "Sorry, your rating wasn't sent. Please try again."));
    });
  }

  // `messageId`: the id of a message sent again (Retry), so that it is answered once.
  function send(payload, shownText, messageId) {
    payload = String(payload || "").trim();
    if (!payload || busy) return false;
    busy = true;
    Array.prototype.forEach.call(
      log.querySelectorAll(".cc-intro, .cc-quick-replies, .cc-error, .cc-feedback:not(.cc-rated)"),
      function (node) { node.remove(); });
    var message = { from: "user", text: shownText || payload, id: messageId || randomId() };
    if (payload !== message.text) message.payload = payload;
    state.messages.push(message);
    save();
    var row = renderMessage(message, false);
    // The answer to the visitor's message may be rated (see botMessages).
    exchange(payload, message.id, true, function () {}, function () {
      message.failed = true;
      save();
      markFailed(row);
      renderError(message, row);
    });
    return true;
  }

  // ---- opening, closing, restarting ----
  // While the panel is open the launcher is hidden (.cc-open in the stylesheet); closing
  // the panel (close button, Escape) shows it again and gives it the focus.
  function setOpen(open, moveFocus) {
    panel.hidden = !open;
    root.classList.toggle("cc-open", open);
    launcher.setAttribute("aria-expanded", String(open));
    state.open = open;
    save();
    if (open) {
      scrollDown();
      if (moveFocus) input.focus();
    } else if (moveFocus) {
      launcher.focus();
    }
  }

  launcher.addEventListener("click", function () { setOpen(panel.hidden, true); });
  closeButton.addEventListener("click", function () { setOpen(false, true); });
  restartButton.addEventListener("click", function () {
    state = { senderId: newSenderId(), messages: [], open: true };
    busy = false;
    save();
    renderAll();
    input.focus();
  });
  root.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !panel.hidden) {
      event.preventDefault();
      setOpen(false, true);
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (send(input.value)) input.value = "";
    input.focus();
  });
  // Keep the focus in the panel when a clicked suggestion disappears.
  log.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest(".cc-quick")) input.focus();
  });
  // Another tab of the same site changed the conversation: show it here too.
  window.addEventListener("storage", function (event) {
    if (event.key !== config.storageKey || busy) return;
    var open = state.open;
    state = load();
    state.open = open;
    renderAll();
  });

  function mount() {
    document.body.appendChild(root);
    renderAll();
    if (state.open) setOpen(true, false);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
