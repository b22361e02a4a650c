// outdial: the agent's desk (issue 14). Plain JS, no inline script (CSP script-src 'self').
// The WebSocket /desk/ws brings the engine's messages; commands go over HTTP (/api/agent/*
// and the desk's forms). On every (re)connect the desk resyncs from GET /desk/state. What the
// agent types is saved as a draft while they type (POST /desk/call/<id>/draft).
(function () {
  "use strict";
  var root, words = {}, since = Date.now(), state = "", callId = "", ws = null, retry = 0;
  var taken = false, draftTimer = null, autoTimer = null, dropAt = 0;
  var tab = sessionStorage.getItem("desk-tab");
  if (!tab) {
    tab = Math.random().toString(36).slice(2) + Date.now().toString(36);
    sessionStorage.setItem("desk-tab", tab);
  }
  window.deskTimes = [];  // screen pops: [call id, epoch ms the record was shown] (bench/console_bench.py)

  function $(id) { return document.getElementById(id); }
  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  function say(text, ok) {
    var box = $("desk-msg");
    if (!box) { return; }
    box.textContent = text || "";
    box.className = ok ? "ok" : (text ? "problem" : "");
  }
  // A refused or failed command is said on the desk and rejects; callers that need not react
  // use act() (below), so that no rejection is left unhandled.
  function api(path, body) {
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body || {})
    }).catch(function (err) {  // no answer at all: the network or the server is down
      say(words.network);
      throw err;
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {  // 409 disposition_owed: wrap-up ends with the disposition, said in words
          say((data.error && words[data.error]) || data.message || (words.failed + " (HTTP " + r.status + ")"));
          throw new Error(data.message || "HTTP " + r.status);
        }
        say("");
        return data;
      });
    });
  }
  function act(path, body, then) {
    return api(path, body).then(then || function () {}).catch(function () {});  // api() said why
  }

  // --- the state bar -------------------------------------------------------------------------
  function setState(next, reason, at) {
    if (next !== state || at) { since = at ? Date.parse(at) : Date.now(); }
    state = next;
    root.setAttribute("data-state", state);
    var badge = $("state-badge");
    if (badge) {
      badge.textContent = words[state] || state;
      badge.className = "state state-" + state;
    }
    var why = $("state-reason");
    if (why) {
      var opt = reason ? document.querySelector('#pause-reason option[value="' + CSS.escape(reason) + '"]') : null;
      why.textContent = state === "paused" ? (opt ? opt.textContent : (words[reason] || reason || "")) : "";
    }
    if (state === "paused" && reason === "softphone_unreachable") {
      why.textContent = "";
      say(words.softphone_unreachable);
    }
    var hang = $("btn-hangup");
    if (hang) { hang.disabled = state !== "talk"; }
    var next_ = $("preview-next");
    if (next_ && root.getAttribute("data-preview") === "1") {
      next_.hidden = !(state === "ready" && $("preview").hidden);
    }
    tick();
  }
  function tick() {
    var el = $("state-time");
    if (!el) { return; }
    var s = Math.max(0, Math.floor((Date.now() - since) / 1000));
    var m = Math.floor(s / 60), h = Math.floor(m / 60);
    el.textContent = (h ? h + ":" + String(m % 60).padStart(2, "0") : m) + ":" + String(s % 60).padStart(2, "0");
  }

  function ready() { return act("/api/agent/ready", {}, function (d) { setState(d.agent.state, null); }); }
  function pause() {
    var reason = ($("pause-reason") || {}).value;
    if (!reason) { say(words.need_reason); $("pause-reason").focus(); return; }
    act("/api/agent/pause", { reason: reason }, function (d) {  // 409 in wrap-up: said why
      setState(d.agent.state, d.agent.pause_reason);
    });
  }
  function hangup() { if (callId) { act("/api/agent/hangup", { call_id: callId }); } }

  // --- the call: screen pop, drafts, dispositions ---------------------------------------------
  function showCall(id) {
    if (!id) { return; }
    callId = id;
    $("preview").hidden = true;
    window.htmx.ajax("GET", "/desk/call/" + encodeURIComponent(id), { target: "#call", swap: "innerHTML" })
      .then(function () {
        restoreDraft();
        window.deskTimes.push([id, Date.now()]);
      });
  }
  function transferred(id) {
    // the customer is in the survey IVR: no second transfer, no agent-led answers for it
    if (id !== callId) { return; }
    ["ivr-line", "survey-card"].forEach(function (k) { if ($(k)) { $(k).hidden = true; } });
    if ($("ivr-done")) { $("ivr-done").hidden = false; }
  }
  function clearCall() {
    callId = "";
    var call = $("call");
    if (call) {
      call.innerHTML = "";
      var p = document.createElement("p");
      p.className = "idle card";
      p.id = "idle";
      p.textContent = words.idle;
      call.appendChild(p);
    }
    document.body.dispatchEvent(new Event("desk-refresh"));
  }
  function fields() {
    var out = new URLSearchParams();
    document.querySelectorAll("#callpanel form.draftable").forEach(function (f) {
      new FormData(f).forEach(function (v, k) { if (typeof v === "string") { out.append(k, v); } });
    });
    return out;
  }
  function saveDraft() {
    var panel = $("callpanel");
    if (!panel) { return; }
    fetch("/desk/call/" + encodeURIComponent(panel.getAttribute("data-call-id")) + "/draft", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf() }, body: fields()
    }).catch(function () {});  // the next keystroke saves it again
  }
  function restoreDraft() {
    var panel = $("callpanel");
    if (!panel) { return; }
    var draft = {};
    try { draft = JSON.parse(panel.getAttribute("data-draft") || "{}"); } catch (e) { draft = {}; }
    Object.keys(draft).forEach(function (name) {
      panel.querySelectorAll('form.draftable [name="' + CSS.escape(name) + '"]').forEach(function (el) {
        if (el.type === "radio" || el.type === "checkbox") { el.checked = el.value === draft[name]; }
        else if (el.tagName !== "BUTTON" && el.type !== "hidden") { el.value = draft[name]; }
      });
    });
    panel.addEventListener("input", function () {
      clearTimeout(draftTimer);
      draftTimer = setTimeout(saveDraft, 300);
    });
    panel.addEventListener("change", function () { clearTimeout(draftTimer); saveDraft(); });
    var ivr = $("btn-ivr");
    if (ivr) { ivr.addEventListener("click", function () { act("/api/agent/transfer-ivr", { call_id: callId }); }); }
  }

  // --- preview mode ----------------------------------------------------------------------------
  function showPreview(msg) {
    root.setAttribute("data-preview", "1");
    var box = $("preview"), dl = $("preview-record");
    dl.innerHTML = "";
    var rec = msg.record || {};
    function row(key, value) {
      if (value === null || value === undefined || value === "" || typeof value === "object") { return; }
      var dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = words["f_" + key] || key;
      dd.textContent = String(value);
      dl.appendChild(dt); dl.appendChild(dd);
    }
    row("number", String(msg.number || "").replace(/\d(?=\d{4})/g, "*"));  // masked as in the pop
    ["name", "order_id", "address", "attempts"].forEach(function (k) { row(k, rec[k]); });
    var custom = rec.custom || {};
    Object.keys(custom).forEach(function (k) { row(k, custom[k]); });
    box.hidden = false;
    $("preview-next").hidden = true;
    clearInterval(autoTimer);
    var auto = $("preview-auto");
    auto.textContent = "";
    if (msg.auto_dial_after) {
      var end = Date.now() + msg.auto_dial_after * 1000;
      autoTimer = setInterval(function () {
        var left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
        auto.textContent = words.auto + " " + left;
        if (!left) { clearInterval(autoTimer); }
      }, 250);
    }
  }
  function previewDone() { clearInterval(autoTimer); $("preview").hidden = true; }

  // --- the socket ------------------------------------------------------------------------------
  function conn(text, ok) {
    var el = $("conn");
    if (el) { el.textContent = text; el.className = "conn " + (ok ? "ok" : "lost"); }
  }
  function resync() {
    return fetch("/desk/state", { credentials: "same-origin" }).then(function (r) { return r.json(); })
      .then(function (snap) {
        if (!snap.agent) {
          // after a drop (a server restart) the engine logs the agent back in once the campaign
          // has resumed: wait for it a minute before showing the sign-in page
          if (dropAt && Date.now() - dropAt < 60000) { say(words.server); setTimeout(resync, 2000); return; }
          if (state && state !== "signed_out") { location.reload(); }
          return;
        }
        if (dropAt) { dropAt = 0; say(""); }
        setState(snap.agent.state, snap.agent.pause_reason, snap.since);
        if (snap.call_id && snap.call_id !== callId) { showCall(snap.call_id); }
        if (!snap.call_id && callId) { clearCall(); }
      }).catch(function () { say(words.network); });  // the socket's next reconnect tries again
  }
  function onMessage(ev) {
    var msg = JSON.parse(ev.data);
    switch (msg.type) {
      case "desk_taken":
        taken = true;
        root.classList.add("taken");
        say(words.taken);
        document.querySelectorAll("#desk button, #desk input, #desk select, #desk textarea")
          .forEach(function (el) { el.disabled = true; });
        break;
      case "hello": break;
      case "agent_state": setState(msg.state, msg.reason); break;
      case "call_connected": previewDone(); setState("talk", null); showCall(msg.call_id); break;
      case "call_ended": setState("wrap", null); break;
      case "call_transferred": setState("wrap", null); transferred(msg.call_id); break;
      case "call_released": previewDone(); break;
      case "preview": showPreview(msg); break;
      case "wrap_up_overdue": say(words.overdue); break;
      case "campaign_stopped": say(words.stopped); setTimeout(function () { location.reload(); }, 1500); break;
      case "server_stopping": say(words.server); break;
    }
  }
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + "/desk/ws?tab=" + encodeURIComponent(tab));
    ws.onopen = function () { retry = 0; conn(words.back, true); resync(); };
    ws.onmessage = onMessage;
    ws.onclose = function () {
      if (taken) { conn("", false); return; }
      conn(words.lost, false);
      if (!dropAt) { dropAt = Date.now(); }
      retry = Math.min(retry + 1, 10);
      setTimeout(connect, 500 * retry);
    };
  }

  function keys(e) {
    if (taken) { return; }
    if (e.altKey && !e.ctrlKey && !e.metaKey) {
      var k = e.key.toLowerCase();
      if (k === "r") { e.preventDefault(); ready(); }
      else if (k === "p") { e.preventDefault(); pause(); }
      else if (k === "h") { e.preventDefault(); hangup(); }
      return;
    }
    var t = e.target, tag = t && t.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || e.ctrlKey || e.metaKey) { return; }
    if (/^[1-9]$/.test(e.key)) {
      var btn = document.querySelector('#dispose-form button[data-key="' + e.key + '"]');
      if (btn) { e.preventDefault(); btn.click(); }
    }
  }

  function init() {
    root = $("desk");
    if (!root) { return; }
    document.querySelectorAll("#desk-words li").forEach(function (li) {
      words[li.getAttribute("data-k")] = li.textContent;
    });
    var sip = $("sip_uri");
    if (sip && !sip.hasAttribute("data-simulated")) {  // the softphone is remembered on this computer
      // (not the simulated carrier's: its port changes at every start)
      var kept = localStorage.getItem("desk-sip-uri");
      if (kept) { sip.value = kept; }
      $("signin").addEventListener("submit", function () { localStorage.setItem("desk-sip-uri", sip.value); });
    }
    if (!$("btn-ready")) { return; }  // not signed in to a campaign: no state bar
    state = root.getAttribute("data-state");
    $("btn-ready").addEventListener("click", ready);
    $("btn-pause").addEventListener("click", pause);
    $("btn-hangup").addEventListener("click", hangup);
    $("btn-dial").addEventListener("click", function () {
      previewDone();
      act("/api/agent/preview/dial");
    });
    $("btn-next").addEventListener("click", function () {
      act("/api/agent/preview/next", {}, function (d) { if (!d.preview) { say(words.no_record, true); } });
    });
    document.addEventListener("keydown", keys);
    document.body.addEventListener("htmx:afterRequest", function (e) {
      var f = e.detail.elt, done = e.detail.xhr && e.detail.xhr.status < 300;  // 4xx swap too
      if (f && f.id === "dispose-form" && done) {
        var disposed = callId;  // the next call may pop within the pause: leave that one be
        setTimeout(function () { if (callId === disposed) { clearCall(); } }, 800);
      }
      if (f && f.id === "skip-form" && done) { previewDone(); setState(state); }
    });
    document.body.addEventListener("htmx:confirm", function (e) {
      var f = e.detail.elt;  // a callback code needs its time before it goes to the server
      var sub = e.detail.triggerEvent && e.detail.triggerEvent.submitter;
      if (f && f.id === "dispose-form" && sub && sub.getAttribute("data-callback") &&
          !f.querySelector('[name="callback_local"]').value) {
        e.preventDefault();
        $("dispose-result").textContent = words.need_time;
        $("dispose-result").className = "problem";
      }
    });
    setInterval(tick, 1000);
    connect();
  }
  document.addEventListener("DOMContentLoaded", init);
})();
