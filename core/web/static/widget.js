/* The customer chat widget: sends messages to the chat API, follows a slow turn's status route, shows citations,
   the reply language, the hand-off state and the support agent's messages (polling the conversation), feedback on
   each reply, and the buttons of a reply's actions. Text is always inserted as text, never as HTML. */
(function () {
  "use strict";
  var tenant = document.body.dataset.tenant;
  var api = "/api/tenants/" + encodeURIComponent(tenant);
  var params = new URLSearchParams(location.search);
  var widgetKey = params.get("key");           // the shop's public widget key, when its chat requires one
  var storeKey = "shopdesk:" + tenant;
  var saved = {};
  try { saved = JSON.parse(sessionStorage.getItem(storeKey) || "{}"); } catch (e) { saved = {}; }
  var state = { conversationId: saved.conversationId || null, token: saved.token || null, agentSeen: 0,
                language: saved.language || document.documentElement.lang || "en", polling: null, busy: false };

  var LANGUAGES = { en: "English", fr: "Français", es: "Español" };
  var TEXT = {
    en: { answering: "The assistant is answering…", still: "Still working on it…", waiting: "A person will answer here. You can keep this page open.",
          answered: "A person from the shop is answering here.", timed_out: "Nobody could answer in time: the shop will follow up by e-mail.",
          closed: "This conversation was resolved by the shop.", helpful: "Helpful", unhelpful: "Not helpful",
          comment: "Comment (optional)", sendComment: "Send", thanks: "Thank you for your feedback.", sources: "Sources",
          you: "You", assistant: "Assistant", support: "Support", failed: "The message could not be sent: " },
    fr: { answering: "L'assistant répond…", still: "Encore un instant…", waiting: "Une personne va vous répondre ici. Vous pouvez garder cette page ouverte.",
          answered: "Une personne de la boutique vous répond ici.", timed_out: "Personne n'a pu répondre à temps : la boutique vous écrira par courriel.",
          closed: "La boutique a résolu cette conversation.", helpful: "Utile", unhelpful: "Pas utile",
          comment: "Commentaire (facultatif)", sendComment: "Envoyer", thanks: "Merci pour votre avis.", sources: "Sources",
          you: "Vous", assistant: "Assistant", support: "Service client", failed: "Le message n'a pas pu être envoyé : " },
    es: { answering: "El asistente está respondiendo…", still: "Un momento más…", waiting: "Una persona le responderá aquí. Puede mantener esta página abierta.",
          answered: "Una persona de la tienda le está respondiendo aquí.", timed_out: "Nadie pudo responder a tiempo: la tienda le escribirá por correo.",
          closed: "La tienda resolvió esta conversación.", helpful: "Útil", unhelpful: "No útil",
          comment: "Comentario (opcional)", sendComment: "Enviar", thanks: "Gracias por su opinión.", sources: "Fuentes",
          you: "Usted", assistant: "Asistente", support: "Atención al cliente", failed: "No se pudo enviar el mensaje: " }
  };
  function t(key) { return (TEXT[state.language] || TEXT.en)[key]; }

  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var progress = document.getElementById("progress");
  var progressText = document.getElementById("progress-text");
  var errorBox = document.getElementById("error");
  var handoffBox = document.getElementById("handoff");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function save() {
    sessionStorage.setItem(storeKey, JSON.stringify({ conversationId: state.conversationId, token: state.token,
                                                      language: state.language }));
  }
  function headers(json) {
    var h = {};
    if (json) h["Content-Type"] = "application/json";
    if (widgetKey) h["X-Tenant-Key"] = widgetKey;
    if (state.token) h["X-Conversation-Token"] = state.token;
    return h;
  }
  function problemText(response, body) {
    if (body && body.detail) return body.detail;
    return "HTTP " + response.status;
  }
  function call(method, url, body) {
    return fetch(url, { method: method, headers: headers(body !== undefined), credentials: "omit",
                        body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (response) {
        return response.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          return { response: response, data: data };
        });
      });
  }
  function scroll() { log.scrollTop = log.scrollHeight; }
  function showError(message) { errorBox.textContent = message; errorBox.hidden = !message; }

  function addCustomer(text) {
    var item = el("li", { "class": "msg customer" });
    item.appendChild(el("span", { "class": "who" }, t("you")));
    item.appendChild(document.createTextNode(text));
    log.appendChild(item); scroll();
  }
  function safeUrl(url) {
    if (!url) return null;
    try { var u = new URL(url, location.href); return (u.protocol === "https:" || u.protocol === "http:") ? u.href : null; }
    catch (e) { return null; }
  }

  function addReply(result, withFeedback) {
    var language = result.language || state.language;
    var item = el("li", { "class": "msg assistant", lang: language, "data-turn": result.turn_id || "" });
    var who = el("span", { "class": "who" }, t("assistant") + " · " + (LANGUAGES[language] || language));
    who.setAttribute("data-language", language);
    item.appendChild(who);
    item.appendChild(el("span", { "class": "text" }, result.reply));
    var citations = result.citations || [];
    if (citations.length) {
      var list = el("ul", { "class": "citations", "aria-label": t("sources") });
      citations.forEach(function (c) {
        var li = el("li");
        var href = safeUrl(c.url);
        if (href) { li.appendChild(el("a", { href: href, target: "_blank", rel: "noopener noreferrer" }, c.title || c.doc_id)); }
        else { li.textContent = c.title || c.doc_id; }
        list.appendChild(li);
      });
      item.appendChild(list);
    }
    renderActions(item, result.actions);
    if (withFeedback && result.turn_id) item.appendChild(feedbackControls(result.turn_id));
    log.appendChild(item); scroll();
  }

  /* Order-action confirmations: a reply may carry actions [{label, value}]; each is a button that sends its value
     as the customer's next message. */
  function renderActions(item, actions) {
    if (!Array.isArray(actions) || !actions.length) return;
    var box = el("div", { "class": "actions", role: "group", "aria-label": "Choices" });
    actions.forEach(function (action) {
      if (!action || typeof action.label !== "string" || typeof action.value !== "string") return;
      var button = el("button", { type: "button" }, action.label);
      button.addEventListener("click", function () {
        Array.prototype.forEach.call(box.querySelectorAll("button"), function (b) { b.disabled = true; });
        send(action.value);
      });
      box.appendChild(button);
    });
    item.appendChild(box);
  }

  /* A thumb icon drawn inline (no icon font or emoji font needed); pointing down for "not helpful". */
  function thumb(pointingDown) {
    var ns = "http://www.w3.org/2000/svg";
    var icon = document.createElementNS(ns, "svg");
    icon.setAttribute("viewBox", "0 0 24 24");
    icon.setAttribute("width", "20");
    icon.setAttribute("height", "20");
    icon.setAttribute("aria-hidden", "true");
    icon.setAttribute("focusable", "false");
    if (pointingDown) icon.setAttribute("transform", "rotate(180)");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M2 21h4V9H2v12zM22 10c0-1.1-.9-2-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 " +
                           "7.6 6.6C7.2 7 7 7.5 7 8v11c0 1.1.9 2 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z");
    icon.appendChild(path);
    return icon;
  }

  function feedbackControls(turnId) {
    var box = el("div", { "class": "feedback", role: "group", "aria-label": t("helpful") + " / " + t("unhelpful") });
    var up = el("button", { type: "button", "aria-pressed": "false", "aria-label": t("helpful"), "data-rating": "up",
                            title: t("helpful") });
    var down = el("button", { type: "button", "aria-pressed": "false", "aria-label": t("unhelpful"), "data-rating": "down",
                              title: t("unhelpful") });
    up.appendChild(thumb(false));
    down.appendChild(thumb(true));
    var note = el("span", { "class": "meta", role: "status" });
    var commentForm = el("form", { hidden: "" });
    var commentId = "comment-" + turnId;
    var label = el("label", { "for": commentId, "class": "visually-hidden" }, t("comment"));
    var comment = el("input", { id: commentId, maxlength: "1000", placeholder: t("comment") });
    commentForm.appendChild(label); commentForm.appendChild(comment);
    commentForm.appendChild(el("button", { type: "submit", "class": "secondary" }, t("sendComment")));
    var rating = null;
    function vote(value, text) {
      var url = api + "/conversations/" + encodeURIComponent(state.conversationId) + "/turns/" +
                encodeURIComponent(turnId) + "/feedback";
      var body = { rating: value };
      if (text) body.comment = text;
      return call("POST", url, body).then(function (r) {
        if (r.response.status !== 201) { note.textContent = problemText(r.response, r.data); return; }
        rating = value;
        up.setAttribute("aria-pressed", String(value === "up"));
        down.setAttribute("aria-pressed", String(value === "down"));
        note.textContent = t("thanks");
      });
    }
    up.addEventListener("click", function () { vote("up").then(function () { commentForm.hidden = false; }); });
    down.addEventListener("click", function () { vote("down").then(function () { commentForm.hidden = false; comment.focus(); }); });
    commentForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (rating && comment.value.trim()) vote(rating, comment.value.trim()).then(function () { commentForm.hidden = true; });
    });
    box.appendChild(up); box.appendChild(down); box.appendChild(note); box.appendChild(commentForm);
    return box;
  }

  function addAgentMessage(message) {
    var author = message.author || "";
    var name = author.indexOf("agent:") === 0 ? author.slice(6) + " · " + t("support") : t("support");
    var item = el("li", { "class": "msg agent" });
    item.appendChild(el("span", { "class": "who" }, name));
    item.appendChild(el("span", { "class": "text" }, message.text));
    log.appendChild(item); scroll();
  }

  function showHandoff(handoff, ticket) {
    if (!ticket && !handoff) { handoffBox.hidden = true; return; }
    handoffBox.textContent = t(handoff && TEXT.en[handoff] ? handoff : "waiting");
    handoffBox.dataset.state = handoff || "waiting";
    handoffBox.hidden = false;
  }

  /* While a person may answer, read the conversation every few seconds and show their new messages. */
  function watchConversation() {
    if (state.polling || !state.conversationId) return;
    state.polling = setInterval(refresh, 2000);
  }
  function refresh() {
    if (!state.conversationId) return Promise.resolve();
    return call("GET", api + "/conversations/" + encodeURIComponent(state.conversationId)).then(function (r) {
      if (r.response.status !== 200 || !r.data) return;
      var view = r.data;
      var messages = view.agent_messages || [];
      for (var i = state.agentSeen; i < messages.length; i++) addAgentMessage(messages[i]);
      state.agentSeen = messages.length;
      showHandoff(view.handoff, view.ticket_id);
      if (view.handoff === "closed" || view.handoff === "timed_out") { clearInterval(state.polling); state.polling = null; }
    });
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  /* A turn that outlasts the chat's wait answers 202: follow its status route until the reply is there. */
  function followStatus(pending) {
    progressText.textContent = t("still");
    return call("GET", pending.status_url).then(function (r) {
      if (r.response.status === 202) {
        var after = parseInt(r.response.headers.get("Retry-After") || "1", 10);
        return sleep(Math.max(1, Math.min(after, 10)) * 1000).then(function () { return followStatus(pending); });
      }
      return r;
    });
  }

  function handleReply(result) {
    state.conversationId = result.conversation_id || state.conversationId;
    if (result.conversation_token) state.token = result.conversation_token;
    if (result.language) { state.language = result.language; }
    save();
    addReply(result, true);
    if (result.escalation && result.escalation.escalated) {
      showHandoff("waiting", result.escalation.ticket_id);
      watchConversation();
    }
  }

  function send(text) {
    if (state.busy) return;
    state.busy = true;
    showError("");
    addCustomer(text);
    progressText.textContent = t("answering");
    progress.hidden = false;
    form.setAttribute("aria-busy", "true");
    var body = { message: text };
    if (state.conversationId) body.conversation_id = state.conversationId;
    call("POST", api + "/chat", body).then(function (r) {
      if (r.response.status === 202 && r.data) {
        state.conversationId = r.data.conversation_id;
        if (r.data.conversation_token) state.token = r.data.conversation_token;
        save();
        return followStatus(r.data);
      }
      return r;
    }).then(function (r) {
      if (r.response.status === 200 && r.data) handleReply(r.data);
      else showError(t("failed") + problemText(r.response, r.data));
    }).catch(function () {
      showError(t("failed") + "network error");
    }).then(function () {
      state.busy = false;
      progress.hidden = true;
      form.removeAttribute("aria-busy");
      input.focus();
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || state.busy) return;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });

  /* A reload keeps the conversation of this browser tab. */
  if (state.conversationId && state.token) {
    call("GET", api + "/conversations/" + encodeURIComponent(state.conversationId)).then(function (r) {
      if (r.response.status !== 200 || !r.data) { state.conversationId = null; state.token = null; save(); return; }
      (r.data.turns || []).forEach(function (turn) {
        addCustomer(turn.user);
        addReply({ reply: turn.reply, language: r.data.language }, false);
      });
      var messages = r.data.agent_messages || [];
      messages.forEach(addAgentMessage);
      state.agentSeen = messages.length;
      showHandoff(r.data.handoff, r.data.ticket_id);
      if (r.data.ticket_id && r.data.handoff !== "closed" && r.data.handoff !== "timed_out") watchConversation();
    });
  }
})();
