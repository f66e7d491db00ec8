/* The operator console: signs in with the function key (and an optional operator token; in Azure the Entra ID
   sign-in of App Service authentication comes with the browser's cookie), then reads and acts through the
   operator API of one shop. Text is always inserted as text, never as HTML. */
(function () {
  "use strict";
  var session = {};
  try { session = JSON.parse(sessionStorage.getItem("shopdesk:console") || "{}"); } catch (e) { session = {}; }

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function status(text) { $("status").textContent = text || ""; }
  function base() { return "/api/operator/tenants/" + encodeURIComponent(session.tenant); }
  function call(method, url, body) {
    var headers = {};
    if (session.key) headers["x-functions-key"] = session.key;
    if (session.token) headers["Authorization"] = "Bearer " + session.token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(url, { method: method, headers: headers, credentials: "same-origin",
                        body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (response) {
        return response.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          if (!response.ok) {
            var detail = data && data.detail ? data.detail : "HTTP " + response.status;
            var error = new Error(detail); error.status = response.status; throw error;
          }
          return data;
        });
      });
  }
  function fail(error) { status("Error: " + error.message); }
  function when(value) { return value ? value.replace("T", " ").slice(0, 19) : ""; }
  function localToIso(value) { return value ? new Date(value).toISOString() : null; }

  /* Sign-in ------------------------------------------------------------------------------------------- */
  function showApp() {
    $("sign-in-view").hidden = true;
    $("app").hidden = false;
    $("who").textContent = "Shop: " + session.tenant;
    $("who").hidden = false;
    $("sign-out").hidden = false;
    openTab("conversations");
  }
  $("sign-in").addEventListener("submit", function (event) {
    event.preventDefault();
    session = { tenant: $("tenant").value.trim(), key: $("key").value, token: $("operator-token").value.trim() };
    $("sign-in-error").hidden = true;
    call("GET", base() + "/conversations?limit=1").then(function () {
      sessionStorage.setItem("shopdesk:console", JSON.stringify(session));
      showApp();
    }).catch(function (error) {
      $("sign-in-error").textContent = "Sign-in refused: " + error.message;
      $("sign-in-error").hidden = false;
    });
  });
  $("sign-out").addEventListener("click", function () {
    sessionStorage.removeItem("shopdesk:console");
    location.reload();
  });

  /* Tabs ------------------------------------------------------------------------------------------------ */
  var loaders = {};
  function openTab(name) {
    Array.prototype.forEach.call(document.querySelectorAll("[data-tab]"), function (button) {
      var on = button.dataset.tab === name;
      if (on) button.setAttribute("aria-current", "page"); else button.removeAttribute("aria-current");
      $("tab-" + button.dataset.tab).hidden = !on;
    });
    status("");
    loaders[name]();
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-tab]"), function (button) {
    button.addEventListener("click", function () { openTab(button.dataset.tab); });
  });

  /* Conversations --------------------------------------------------------------------------------------- */
  function stateBadge(c) {
    if (c.open) return el("span", { "class": "badge open" }, "open hand-off");
    if (c.escalated) return el("span", { "class": "badge escalated" }, "escalated (" + (c.handoff || "ticket") + ")");
    return el("span", { "class": "badge ai" }, "assistant");
  }
  loaders.conversations = function () {
    var query = new URLSearchParams();
    new FormData($("filters")).forEach(function (value, key) { if (value) query.set(key, value); });
    return call("GET", base() + "/conversations?" + query.toString()).then(function (data) {
      var body = $("conversation-table").querySelector("tbody");
      clear(body);
      data.conversations.forEach(function (c) {
        var row = el("tr", { "data-conversation": c.conversation_id });
        row.appendChild(el("td", {}, when(c.updated_at)));
        row.appendChild(el("td", {}, c.language || ""));
        row.appendChild(el("td", {}, c.turns));
        var st = el("td"); st.appendChild(stateBadge(c)); row.appendChild(st);
        row.appendChild(el("td", {}, c.last_message || ""));
        var open = el("td");
        var button = el("button", { type: "button", "class": "secondary",
                                    "aria-label": "Open conversation " + c.conversation_id }, "Open");
        button.addEventListener("click", function () { showConversation(c.conversation_id, $("conversation")); });
        open.appendChild(button); row.appendChild(open);
        body.appendChild(row);
      });
      status(data.conversations.length + " conversation(s)");
    }).catch(fail);
  };
  $("filters").addEventListener("submit", function (event) { event.preventDefault(); loaders.conversations(); });

  function renderTranscript(list, transcript) {
    clear(list);
    transcript.messages.forEach(function (m) {
      var kind = m.author === "customer" ? "customer" : (m.author === "assistant" ? "assistant" : "agent");
      var item = el("li", { "class": "msg " + kind });
      var who = m.author === "assistant" ? "Assistant" + (m.intent ? " · " + m.intent : "") + (m.language ? " · " + m.language : "")
              : (m.author === "customer" ? "Customer" : m.author.replace("agent:", "Agent: "));
      item.appendChild(el("span", { "class": "who" }, who + " · " + when(m.at)));
      item.appendChild(el("span", { "class": "text" }, m.text));
      if (m.feedback) {
        item.appendChild(el("span", { "class": "meta" }, " Feedback: " + (m.feedback.rating === "up" ? "helpful" : "not helpful") +
                                                       (m.feedback.comment ? " “" + m.feedback.comment + "”" : "")));
      }
      list.appendChild(item);
    });
  }
  var current = null;
  function showConversation(id, panel) {
    return call("GET", base() + "/conversations/" + encodeURIComponent(id)).then(function (transcript) {
      current = id;
      panel.hidden = false;
      panel.dataset.conversation = id;
      panel.querySelector("h3").textContent = "Conversation " + id + (transcript.ticket_id ? " · ticket " + transcript.ticket_id : "");
      renderTranscript(panel.querySelector(".transcript"), transcript);
      var trace = panel.querySelector(".trace");
      if (trace) { trace.hidden = true; clear(trace); }
      panel.querySelector("h3").focus && panel.querySelector("h3").setAttribute("tabindex", "-1");
      panel.querySelector("h3").focus();
      return transcript;
    }).catch(fail);
  }

  /* A turn's trace as a timeline: each agent step, its duration, and its attributes (decisions, guardrail
     reasons, model, cost). */
  var HIDDEN_ATTRIBUTES = ["shopdesk.tenant", "shopdesk.conversation", "shopdesk.turn", "shopdesk.kind"];
  function renderTrace(box, trace) {
    clear(box);
    box.appendChild(el("p", {}, "Total cost: $" + trace.cost_usd.toFixed(6)));
    trace.turns.forEach(function (turn, index) {
      box.appendChild(el("h4", {}, "Turn " + (index + 1) + " · " + turn.steps.length + " steps · " + turn.tokens +
                                   " tokens · $" + turn.cost_usd.toFixed(6)));
      var longest = Math.max.apply(null, turn.steps.map(function (s) { return s.duration_ms || 0; }).concat([1]));
      var list = el("ol", { "class": "timeline", "aria-label": "Steps of turn " + (index + 1) });
      turn.steps.forEach(function (step) {
        var item = el("li");
        item.appendChild(el("span", { "class": "step" }, step.name.replace("agent.", "") + " · " +
                                                         (step.duration_ms || 0).toFixed(1) + " ms"));
        var bar = el("span", { "class": "bar", "aria-hidden": "true" });
        bar.style.width = Math.max(1, 100 * (step.duration_ms || 0) / longest) + "%";
        item.appendChild(bar);
        var attrs = Object.keys(step.attributes || {}).filter(function (k) { return HIDDEN_ATTRIBUTES.indexOf(k) < 0; })
          .map(function (k) { return k.replace("shopdesk.", "") + ": " + JSON.stringify(step.attributes[k]); });
        (step.integrations || []).forEach(function (child) {
          attrs.push("↳ " + child.name + " " + (child.duration_ms || 0).toFixed(1) + " ms");
        });
        item.appendChild(el("span", { "class": "attrs" }, attrs.join(" · ")));
        if (step.status === "error") item.appendChild(el("span", { "class": "error" }, "failed"));
        list.appendChild(item);
      });
      box.appendChild(list);
    });
  }
  $("show-trace").addEventListener("click", function () {
    var box = $("trace");
    call("GET", base() + "/conversations/" + encodeURIComponent(current) + "/trace").then(function (trace) {
      renderTrace(box, trace);
      box.hidden = false;
    }).catch(fail);
  });

  /* Hand-off inbox ------------------------------------------------------------------------------------- */
  loaders.handoffs = function () {
    $("handoff-detail").hidden = true;
    return call("GET", base() + "/conversations?status=open").then(function (data) {
      var inbox = $("inbox");
      clear(inbox);
      if (!data.conversations.length) inbox.appendChild(el("li", {}, "No conversation is waiting for a person."));
      data.conversations.forEach(function (c) {
        var item = el("li");
        var button = el("button", { type: "button", "data-conversation": c.conversation_id },
                        when(c.updated_at) + " · " + (c.language || "") + " · " + (c.handoff || "waiting") + " · " +
                        (c.last_message || ""));
        button.addEventListener("click", function () { showConversation(c.conversation_id, $("handoff-detail")); });
        item.appendChild(button);
        inbox.appendChild(item);
      });
      status(data.conversations.length + " open hand-off(s)");
    }).catch(fail);
  };
  $("agent-reply").addEventListener("submit", function (event) {
    event.preventDefault();
    var resolve = event.submitter && event.submitter.value === "resolve";
    var id = $("handoff-detail").dataset.conversation;
    var body = { message: $("agent-message").value, agent: $("agent-name").value, close_ticket: resolve };
    call("POST", "/api/tenants/" + encodeURIComponent(session.tenant) + "/conversations/" + encodeURIComponent(id) +
         "/agent-reply", body).then(function () {
      $("agent-message").value = "";
      status(resolve ? "Reply sent; the conversation is resolved." : "Reply sent to the customer.");
      setTimeout(function () { showConversation(id, $("handoff-detail")); }, 800);
    }).catch(fail);
  });

  /* Dead letters --------------------------------------------------------------------------------------- */
  function replay(ids) {
    return call("POST", base() + "/dead-letters/replay", ids ? { ids: ids } : {}).then(function (data) {
      return loaders.deadletters().then(function () { status("Replayed " + data.replayed + " event(s)."); });
    }).catch(fail);
  }
  loaders.deadletters = function () {
    return call("GET", base() + "/dead-letters").then(function (data) {
      var body = $("dead-letter-table").querySelector("tbody");
      clear(body);
      data.dead_letters.forEach(function (d) {
        var row = el("tr", { "data-letter": d.id });
        [d.agent, d.type, d.subject, d.error, d.attempts, when(d.at)].forEach(function (v) { row.appendChild(el("td", {}, v)); });
        var cell = el("td");
        var button = el("button", { type: "button", "class": "secondary", "aria-label": "Replay " + d.type + " to " + d.agent }, "Replay");
        button.addEventListener("click", function () { replay([d.id]); });
        cell.appendChild(button); row.appendChild(cell);
        body.appendChild(row);
      });
      $("replay-all").disabled = !data.dead_letters.length;
      status(data.dead_letters.length + " dead letter(s)");
    }).catch(fail);
  };
  $("replay-all").addEventListener("click", function () { replay(null); });

  /* Promotions, announcements, schedules ---------------------------------------------------------------- */
  function itemWithButton(list, text, label, action) {
    var item = el("li", {}, text);
    var button = el("button", { type: "button", "aria-label": label }, "×");
    button.addEventListener("click", action);
    item.appendChild(button);
    list.appendChild(item);
  }
  loaders.shop = function () {
    return Promise.all([
      call("GET", base() + "/promotions").then(function (data) {
        var list = $("promotions"); clear(list);
        data.promotions.forEach(function (p) {
          var text = p.title + (p.discount_percent ? " (" + p.discount_percent + " %)" : "") + " · " + p.status + " · " +
                     when(p.starts_at) + " → " + when(p.ends_at);
          if (p.status === "scheduled" || p.status === "active") {
            itemWithButton(list, text, "Cancel promotion " + p.title, function () {
              call("DELETE", base() + "/promotions/" + encodeURIComponent(p.id)).then(loaders.shop).catch(fail);
            });
          } else { list.appendChild(el("li", {}, text)); }
        });
      }),
      call("GET", base() + "/announcements").then(function (data) {
        var list = $("announcements"); clear(list);
        data.announcements.forEach(function (a) {
          var text = Object.keys(a.text).map(function (k) { return k + ": " + a.text[k]; }).join(" | ");
          itemWithButton(list, text, "Withdraw announcement", function () {
            call("DELETE", base() + "/announcements/" + encodeURIComponent(a.id)).then(loaders.shop).catch(fail);
          });
        });
      }),
      call("GET", base() + "/sync-schedules").then(function (data) {
        var form = $("schedule-form");
        form.elements.products.value = data.products.schedule;
        form.elements.analytics.value = data.analytics.schedule;
      })
    ]).catch(fail);
  };
  $("promotion-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var f = event.target.elements;
    var body = { title: f.title.value, starts_at: localToIso(f.starts_at.value), ends_at: localToIso(f.ends_at.value) };
    if (f.discount_percent.value) body.discount_percent = Number(f.discount_percent.value);
    call("POST", base() + "/promotions", body).then(function () { event.target.reset(); status("Promotion scheduled."); loaders.shop(); }).catch(fail);
  });
  $("announcement-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var f = event.target.elements, text = {};
    ["en", "fr", "es"].forEach(function (k) { if (f[k].value.trim()) text[k] = f[k].value.trim(); });
    var body = { text: text };
    if (f.expires_at.value) body.expires_at = localToIso(f.expires_at.value);
    call("POST", base() + "/announcements", body).then(function () { event.target.reset(); status("Announcement published."); loaders.shop(); }).catch(fail);
  });
  $("schedule-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var f = event.target.elements;
    call("PUT", base() + "/sync-schedules", { products: f.products.value, analytics: f.analytics.value })
      .then(function () { status("Schedules saved."); }).catch(fail);
  });

  /* Analytics ------------------------------------------------------------------------------------------ */
  var SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  /* A bar chart of labelled values; `reference` draws a dashed line (the budget) and marks bars above it. */
  function barChart(title, labels, values, format, reference) {
    var figure = el("figure");
    figure.appendChild(el("figcaption", {}, title));
    var width = 320, height = 160, left = 8, bottom = 28, top = 14;
    var numbers = values.map(function (v) { return v === null || v === undefined ? 0 : v; });
    var max = Math.max.apply(null, numbers.concat([reference || 0, 1e-9]));
    var summary = labels.map(function (l, i) { return l + ": " + (values[i] === null ? "none" : format(values[i])); }).join(", ");
    var chart = svg("svg", { viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": title + ". " + summary });
    var step = (width - left * 2) / Math.max(1, labels.length);
    labels.forEach(function (label, i) {
      var h = (height - bottom - top) * numbers[i] / max;
      var x = left + i * step + step * 0.15, y = height - bottom - h;
      var rect = svg("rect", { x: x, y: y, width: step * 0.7, height: Math.max(h, values[i] ? 1 : 0),
                               "class": reference && numbers[i] > reference ? "bar over" : "bar" });
      rect.appendChild(svg("title", {}, label + ": " + (values[i] === null ? "none" : format(values[i]))));
      chart.appendChild(rect);
      var every = Math.ceil(labels.length / 7);
      if ((labels.length - 1 - i) % every === 0) {
        chart.appendChild(svg("text", { x: x, y: height - bottom + 12 }, label));
      }
    });
    if (reference) {
      var ry = height - bottom - (height - bottom - top) * reference / max;
      chart.appendChild(svg("line", { x1: left, x2: width - left, y1: ry, y2: ry, "class": "budget" }));
      chart.appendChild(svg("text", { x: left, y: ry - 3 }, "budget " + format(reference)));
    }
    chart.appendChild(svg("text", { x: width - left, y: 10, "text-anchor": "end" }, "max " + format(max)));
    figure.appendChild(chart);
    return figure;
  }
  function percent(v) { return v === null || v === undefined ? "–" : Math.round(v * 100) + " %"; }
  function dollars(v) { return "$" + Number(v).toFixed(4); }
  function count(v) { return String(v); }
  loaders.analytics = function () {
    var days = $("analytics-form").elements.days.value;
    return call("GET", base() + "/analytics?days=" + encodeURIComponent(days)).then(function (data) {
      var totals = $("totals"); clear(totals);
      [["Conversations", count(data.totals.conversations)], ["Turns", count(data.totals.turns)],
       ["Resolution rate", percent(data.totals.resolution_rate)], ["Escalation rate", percent(data.totals.escalation_rate)],
       ["Satisfaction", percent(data.totals.satisfaction.rate) + " (" + data.totals.satisfaction.up + " up, " +
                        data.totals.satisfaction.down + " down)"],
       ["Model cost", dollars(data.totals.cost) + (data.daily_budget ? " (budget " + dollars(data.daily_budget) + "/day)" : "")]
      ].forEach(function (pair) {
        var box = el("div"); box.appendChild(el("strong", {}, pair[1])); box.appendChild(el("span", {}, pair[0]));
        totals.appendChild(box);
      });
      var charts = $("charts"); clear(charts);
      var labels = data.days.map(function (d) { return d.day.slice(5); });
      charts.appendChild(barChart("Conversations per day", labels, data.days.map(function (d) { return d.conversations; }), count));
      charts.appendChild(barChart("Resolution rate (answered without a person)", labels, data.days.map(function (d) { return d.resolution_rate; }), percent));
      charts.appendChild(barChart("Escalation rate", labels, data.days.map(function (d) { return d.escalation_rate; }), percent));
      charts.appendChild(barChart("Satisfaction (thumbs up share)", labels, data.days.map(function (d) { return d.satisfaction.rate; }), percent));
      charts.appendChild(barChart("Model cost per day" + (data.daily_budget ? " vs budget" : ""), labels,
                                  data.days.map(function (d) { return d.cost; }), dollars, data.daily_budget));
      var intents = Object.keys(data.intents);
      charts.appendChild(barChart("Intents", intents, intents.map(function (k) { return data.intents[k]; }), count));
      var languages = Object.keys(data.languages);
      charts.appendChild(barChart("Languages", languages, languages.map(function (k) { return data.languages[k]; }), count));
    }).catch(fail);
  };
  $("analytics-form").addEventListener("submit", function (event) { event.preventDefault(); loaders.analytics(); });

  if (session.tenant) {
    $("tenant").value = session.tenant;
    showApp();
  }
})();
