/* dmsniff HTML report: the sessions table, the filter language, session and device views.
 *
 * Everything comes from the page itself: the index (#dm-index) and one gzip'd JSON blob per
 * session and device (<script type="application/gzip+json" id="s:ID">), unpacked on demand.
 * Text from captures is only ever put into the page as text (textContent), never as markup;
 * the one exception is the sequence chart's SVG, which dmsniff made and escaped itself.
 */
"use strict";
(function () {
  const IDX = JSON.parse(document.getElementById("dm-index").textContent);
  const ROW = 26;
  const SVGNS = "http://www.w3.org/2000/svg";
  const SEV_ORDER = { error: 0, warning: 1, info: 2, "": 9 };

  // ------------------------------------------------------------------ small helpers
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === "class") node.className = v;
        else if (k === "text") node.textContent = v;
        else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : String(c));
    }
    return node;
  }
  function svgEl(tag, attrs) {
    const node = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    return node;
  }
  const $ = (sel) => document.querySelector(sel);
  const fmt = (n) => Number(n).toLocaleString("en-US");
  // Capture times as UTC clock times (what device logs show), to the millisecond.
  const clock = (t) => new Date(t * 1000).toISOString().replace("T", " ").slice(0, 23);
  function badgeClass(b) { return b === "✓" ? "badge-ok" : b === "✗" ? "badge-bad" : b ? "badge-unk" : ""; }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  // ------------------------------------------------------------------ blobs
  const cache = new Map();
  async function blob(kind, id) {
    const key = kind + ":" + id;
    if (cache.has(key)) return cache.get(key);
    const node = document.getElementById(key);
    if (!node) throw new Error("no detail for " + key);
    if (typeof DecompressionStream === "undefined") throw new Error("this browser cannot unpack the report's details (no DecompressionStream)");
    const bin = atob(node.textContent.trim());
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    const obj = JSON.parse(await new Response(stream).text());
    if (cache.size > 50) cache.delete(cache.keys().next().value);
    cache.set(key, obj);
    return obj;
  }

  // ------------------------------------------------------------------ the filter language
  // A port of dmsniff/sessions/filter.py over the index rows (same grammar, fields and free text).
  class FilterError extends Error {
    constructor(message, position) { super(message); this.position = position; }
  }
  const PROTOCOLS = { cwmp: "cwmp", tr069: "cwmp", "tr-069": "cwmp", tr69: "cwmp", omadm: "omadm", dm: "omadm", "oma-dm": "omadm" };
  const AUTH = ["valid", "invalid", "no-secret", "unverifiable"];
  const FIELD_NAMES = ["proto", "protocol", "device", "server", "rpc", "cmd", "kind", "status", "fault", "auth",
    "finding", "session", "id", "end", "event", "pkg", "tls"];

  function readQuoted(text, start) {
    let out = "", i = start + 1;
    while (i < text.length) {
      const c = text[i];
      if (c === "\\" && i + 1 < text.length && (text[i + 1] === '"' || text[i + 1] === "\\")) { out += text[i + 1]; i += 2; }
      else if (c === '"') return [out, i + 1];
      else { out += c; i++; }
    }
    throw new FilterError("unterminated quoted string", start);
  }
  function tokenize(text) {
    const tokens = [];
    let i = 0;
    const n = text.length;
    while (i < n) {
      const c = text[i];
      if (/\s/.test(c)) { i++; continue; }
      if (c === "(" || c === ")") { tokens.push({ kind: c, pos: i }); i++; continue; }
      if (c === "|") { tokens.push({ kind: "or", pos: i }); i++; continue; }
      if (c === "!") { tokens.push({ kind: "not", pos: i }); i++; continue; }
      if (c === '"') {
        const [value, end] = readQuoted(text, i);
        tokens.push({ kind: "term", pos: i, field: null, value });
        i = end; continue;
      }
      let j = i;
      while (j < n && !/\s/.test(text[j]) && !'()|"'.includes(text[j])) j++;
      const word = text.slice(i, j);
      const low = word.toLowerCase();
      const m = /^([A-Za-z][A-Za-z0-9_-]*):([\s\S]*)$/.exec(word);
      if (low === "or" || low === "and" || low === "not") tokens.push({ kind: low, pos: i });
      else if (m) {
        const name = m[1].toLowerCase();
        if (!FIELD_NAMES.includes(name)) {
          throw new FilterError(`unknown field '${m[1]}': known fields are ${FIELD_NAMES.join(", ")} (put text with a colon in "quotes" to search for it)`, i);
        }
        let value = m[2];
        const vpos = i + m[1].length + 1;
        if (!value && j < n && text[j] === '"') [value, j] = readQuoted(text, j);
        tokens.push({ kind: "term", pos: i, field: name, value, vpos });
      } else tokens.push({ kind: "term", pos: i, field: null, value: word });
      i = j;
    }
    tokens.push({ kind: "end", pos: n });
    return tokens;
  }
  const SHOWN = { "(": "'('", ")": "')'", or: "'or'", and: "'and'", not: "'not'", end: "the end" };
  const STARTS = new Set(["(", "not", "term"]);
  const MAX_NESTING = 64;  // as filter.py: deeper parentheses and nots are an error, not a stack overflow
  function parse(text) {
    const toks = tokenize(text);
    let k = 0, depth = 0;
    const peek = () => toks[k], take = () => toks[k++];
    function enter(t) {
      if (++depth > MAX_NESTING) {
        throw new FilterError(`nested too deep (more than ${MAX_NESTING} parentheses or nots)`, t.pos);
      }
    }
    function expectAfter(op, shown) {
      const t = peek();
      if (STARTS.has(t.kind)) return;
      if (t.kind === "end") throw new FilterError(`${shown} needs a term after it`, op.pos);
      throw new FilterError(`expected a term after ${shown}, found ${SHOWN[t.kind]}`, t.pos);
    }
    function orExpr() {
      const ops = [andExpr()];
      while (peek().kind === "or") { expectAfter(take(), "'or'"); ops.push(andExpr()); }
      return ops.length === 1 ? ops[0] : { or: ops };
    }
    function andExpr() {
      const ops = [unary()];
      for (;;) {
        const kind = peek().kind;
        if (kind === "and") expectAfter(take(), "'and'");
        else if (!STARTS.has(kind)) break;
        ops.push(unary());
      }
      return ops.length === 1 ? ops[0] : { and: ops };
    }
    function unary() {
      if (peek().kind === "not") {
        const t = take();
        expectAfter(t, "'not'");
        enter(t);
        const node = { not: unary() };
        depth--;
        return node;
      }
      return primary();
    }
    function primary() {
      const t = take();
      if (t.kind === "term") return { term: t };
      if (t.kind === "(") {
        if (peek().kind === ")") throw new FilterError("empty parentheses", peek().pos);
        enter(t);
        const node = orExpr();
        if (peek().kind !== ")") throw new FilterError("unclosed '('", t.pos);
        take();
        depth--;
        return node;
      }
      if (t.kind === ")") throw new FilterError("unmatched ')'", t.pos);
      throw new FilterError(`expected a term, found ${SHOWN[t.kind]}`, t.pos);
    }
    if (peek().kind === "end") return null;
    const node = orExpr();
    if (peek().kind === ")") throw new FilterError("unmatched ')'", peek().pos);
    return node;
  }
  function required(field, value, pos) {
    if (!value) throw new FilterError(`${field}: needs a value`, pos);
    return value.toLowerCase();
  }
  const lc = (s) => (s || "").toLowerCase();
  function field(name, value, pos) {
    switch (name) {
      case "proto": case "protocol": {
        const p = PROTOCOLS[required("proto", value, pos)];
        if (!p) throw new FilterError(`unknown protocol '${value}': use cwmp (tr069) or omadm (dm)`, pos);
        return (r) => r.proto === p;
      }
      case "device": {
        const needle = required("device", value, pos);
        return (r) => (r.device !== null && lc(r.device).includes(needle)) || r.dvals.some((v) => lc(v).includes(needle));
      }
      case "server": {
        const needle = required("server", value, pos);
        return (r) => lc(r.server).includes(needle) || (r.sname !== null && lc(r.sname).includes(needle));
      }
      case "rpc": case "cmd": case "kind": {
        const name = required("rpc", value, pos);
        const test = name.endsWith("*") ? ((k) => k.startsWith(name.slice(0, -1))) : ((k) => k === name);
        return (r) => r._kinds.some(test);
      }
      case "status": {
        const text = required("status", value, pos);
        let low, high;
        if (/^[0-9]+$/.test(text)) { low = parseInt(text, 10); high = low + 1; }
        else if (/^[1-9]xx$/.test(text)) { low = parseInt(text[0], 10) * 100; high = low + 100; }
        else throw new FilterError(`status: needs a code (401) or a class (4xx), not '${value}'`, pos);
        return (r) => r.status.some((c) => c >= low && c < high);
      }
      case "fault": {
        const m = /^([0-9]*)(\*?)$/.exec(value);
        if (!m) throw new FilterError(`fault: needs a fault code (9001) or a prefix (90*), not '${value}'`, pos);
        const [, digits, star] = m;
        let test;
        if (!digits) test = () => true;
        else if (star) test = (c) => c >= 0 && String(c).startsWith(digits);
        else { const num = parseInt(digits, 10); test = (c) => c === num; }
        return (r) => r.faults.some(test);
      }
      case "auth": {
        const wanted = required("auth", value, pos);
        if (wanted === "none") return (r) => !r.hasauth;
        if (wanted === "any") return (r) => r.hasauth;
        if (!AUTH.includes(wanted)) throw new FilterError(`auth: needs one of ${[...AUTH, "none", "any"].join(", ")}, not '${value}'`, pos);
        return (r) => r.auth.includes(wanted);
      }
      case "finding": {
        const wanted = value.toLowerCase();
        if (!wanted) return (r) => r.find.length > 0;
        if (["error", "warning", "info"].includes(wanted)) return (r) => r.find.some((f) => f[0] === wanted);
        return (r) => r.find.some((f) => f[1].toLowerCase().includes(wanted));
      }
      case "session": case "id": {
        const wanted = required("session", value, pos);
        return (r) => r.id.toLowerCase() === wanted || (r.sid !== null && r.sid.toLowerCase() === wanted);
      }
      case "end": {
        const wanted = required("end", value, pos);
        return (r) => r.why !== null && r.why.toLowerCase() === wanted;
      }
      case "event": {
        const needle = value.toLowerCase();
        if (!needle) return (r) => r.events.length > 0;
        return (r) => r.events.some((e) => e.toLowerCase().includes(needle));
      }
      case "pkg": {
        if (!/^[0-9]+$/.test(value)) throw new FilterError(`pkg: needs a package number (0..), not '${value}'`, pos);
        const num = parseInt(value, 10);
        return (r) => r.pkgs.includes(num);
      }
      case "tls": {
        const w = value.toLowerCase();
        if (w === "" || w === "yes" || w === "any") return (r) => r.tls !== null;
        if (w === "no" || w === "none") return (r) => r.tls === null;
        if (w === "decrypted") return (r) => r.tls !== null && !r.tls.enc;
        if (w === "encrypted") return (r) => r.tls !== null && r.tls.enc;
        if (w === "resumed") return (r) => r.tls !== null && r.tls.res;
        const m = /^(?:tls)?v?(1\.[0-3])$/.exec(w);
        const version = m ? "TLS " + m[1] : (w === "ssl3" || w === "3.0") ? "SSL 3.0" : null;
        if (!version) throw new FilterError(`tls: needs one of yes, any, no, none, decrypted, encrypted, resumed, or a version (1.0 ... 1.3), not '${value}'`, pos);
        return (r) => r.tls !== null && r.tls.v.includes(version);
      }
    }
    throw new FilterError(`unknown field '${name}'`, pos);
  }
  function freeText(value) {
    const needle = value.toLowerCase();
    return (r) => r._hay.includes(needle);
  }
  function compileNode(node) {
    if (node === null) return () => true;
    if (node.term) {
      const t = node.term;
      return t.field === null ? freeText(t.value) : field(t.field, t.value, t.vpos);
    }
    if (node.not) { const inner = compileNode(node.not); return (r) => !inner(r); }
    const ops = (node.and || node.or).map(compileNode);
    return node.and ? (r) => ops.every((p) => p(r)) : (r) => ops.some((p) => p(r));
  }
  function compileFilter(text) { return compileNode(parse(text)); }

  // What the predicates read, worked out once per row.
  for (const r of IDX.sessions) {
    r._kinds = r.kinds.map((k) => k.toLowerCase());
    r.hasauth = r.auth.length > 0;
    const parts = [r.id, r.client, r.server, r.device || "", ...r.dvals, r.sname || "", r.conv, ...r.fm];
    for (const f of r.find) parts.push(f[1]);
    r._hay = parts.join("\u0000").toLowerCase();
  }
  const byId = new Map(IDX.sessions.map((r) => [r.id, r]));

  // ------------------------------------------------------------------ routing
  const VIEWS = ["overview", "sessions", "session", "verification", "findings", "devices", "device"];
  function show(view) {
    for (const v of VIEWS) { const s = document.getElementById(v); if (s) s.hidden = v !== view; }
    const navView = view === "session" ? "sessions" : view === "device" ? "devices" : view;
    for (const a of document.querySelectorAll("header nav a")) a.classList.toggle("active", a.dataset.view === navView);
  }
  function route() {
    const hash = decodeURIComponent(location.hash.slice(1));
    const parts = hash.split("/");
    if (parts[0] === "session" && parts[1]) {
      show("session");
      openSession(parts[1], parts[2] || null, parts[3] || null);
    } else if (parts[0] === "device" && parts.length > 1) {
      show("device");
      openDevice(parts.slice(1).join("/"));
    } else if (VIEWS.includes(parts[0])) {
      show(parts[0]);
      if (parts[0] === "sessions") sessions.render(true);
      if (parts[0] === "verification") authList();
      if (parts[0] === "findings") findingList();
      if (parts[0] === "devices") deviceList();
    } else if (IDX.single) {
      location.replace("#session/" + encodeURIComponent(IDX.single));
    } else show("overview");
  }
  window.addEventListener("hashchange", route);

  // ------------------------------------------------------------------ the sessions table
  const sessions = {
    all: IDX.sessions,
    rows: IDX.sessions.slice(),
    predicate: () => true,
    search: "",
    sortKey: "start",
    desc: false,
    cursor: 0,
    drawn: -1,
    apply() {
      const s = this.search.toLowerCase();
      this.rows = this.all.filter((r) => this.predicate(r) && (!s || r._hay.includes(s)));
      this.sort();
      $("#count").textContent = `${fmt(this.rows.length)} of ${fmt(this.all.length)} sessions`;
      this.cursor = Math.min(this.cursor, Math.max(0, this.rows.length - 1));
      this.render(true);
    },
    sort() {
      const key = this.sortKey, dir = this.desc ? -1 : 1;
      const val = (r) => key === "device" ? (r.device || "") : key === "start" ? r.cap * 1e12 + r.start : r[key];
      this.rows.sort((a, b) => {
        const x = val(a), y = val(b);
        if (x === y) return a.start - b.start;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        return (x < y ? -1 : 1) * dir;
      });
      for (const span of document.querySelectorAll("#sessions-head span")) {
        span.classList.toggle("sorted", span.dataset.sort === key);
        span.classList.toggle("desc", span.dataset.sort === key && this.desc);
      }
    },
    render(force) {
      const box = $("#sessions-table");
      if (!box || box.offsetParent === null) return;
      const spacer = box.firstElementChild;
      spacer.style.height = this.rows.length * ROW + "px";
      const first = Math.max(0, Math.floor(box.scrollTop / ROW) - 5);
      const last = Math.min(this.rows.length, first + Math.ceil(box.clientHeight / ROW) + 10);
      const key = first + ":" + last;
      if (!force && key === this.drawn) return;
      this.drawn = key;
      for (const node of Array.from(box.children)) if (node !== spacer) node.remove();
      const frag = document.createDocumentFragment();
      for (let i = first; i < last; i++) frag.append(this.row(this.rows[i], i));
      box.append(frag);
    },
    row(r, i) {
      const node = el("div", { class: "vrow" + (i === this.cursor ? " cursor" : ""), "data-id": r.id, role: "row",
        title: r.conv },
        el("span", { class: "num", text: (IDX.captures > 1 ? `#${r.cap + 1} ` : "") + "+" + r.rel.toFixed(3) }),
        el("span", { text: r.id }),
        el("span", { text: r.proto }),
        el("span", { text: r.device || "-" }),
        el("span", { text: r.sname || r.server }),
        el("span", { class: "num", text: r.msgs }),
        el("span", { class: badgeClass(r.badge), text: r.badge + (r.tls ? " 🔒" : "") }),
        el("span", { class: r.sev ? "sev-" + r.sev : "", text: r.nfind ? (r.nfind + " " + r.sev) : "" }),
        el("span", { text: r.why || "" }),
        el("span", { class: "conv", text: r.conv }));
      node.style.top = i * ROW + "px";
      node.addEventListener("click", () => { this.cursor = i; location.hash = "#session/" + encodeURIComponent(r.id); });
      return node;
    },
    move(delta) {
      if (!this.rows.length) return;
      this.cursor = Math.max(0, Math.min(this.rows.length - 1, this.cursor + delta));
      const box = $("#sessions-table");
      const top = this.cursor * ROW;
      if (top < box.scrollTop) box.scrollTop = top;
      else if (top + ROW > box.scrollTop + box.clientHeight) box.scrollTop = top + ROW - box.clientHeight;
      this.render(true);
    },
  };

  function applyFilter(text) {
    const err = $("#filter-error");
    try {
      sessions.predicate = compileFilter(text);
    } catch (e) {
      if (!(e instanceof FilterError)) throw e;
      err.textContent = `filter error at column ${e.position + 1}: ${e.message}`;
      err.hidden = false;
      return false;
    }
    err.hidden = true;
    sessions.apply();
    return true;
  }
  // For tests and the curious: the page's filter, as the TUI has it.
  window.dmsniff = { applyFilter, compileFilter, rows: () => sessions.rows.map((r) => r.id) };

  function initSessions() {
    const box = $("#sessions-table");
    let pending = false;
    box.addEventListener("scroll", () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; sessions.render(false); });
    });
    box.addEventListener("keydown", (ev) => {
      const page = Math.max(1, Math.floor(box.clientHeight / ROW) - 1);
      const moves = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1, PageDown: page, PageUp: -page, End: 1e9, G: 1e9, Home: -1e9, g: -1e9 };
      if (ev.key in moves) { sessions.move(moves[ev.key]); ev.preventDefault(); }
      else if (ev.key === "Enter" && sessions.rows[sessions.cursor]) location.hash = "#session/" + encodeURIComponent(sessions.rows[sessions.cursor].id);
    });
    $("#filter").addEventListener("keydown", (ev) => { if (ev.key === "Enter") applyFilter(ev.target.value); });
    $("#search").addEventListener("input", (ev) => { sessions.search = ev.target.value; sessions.apply(); });
    $("#filter-help").addEventListener("click", () => { const d = $("#filter-doc"); d.hidden = !d.hidden; });
    for (const span of document.querySelectorAll("#sessions-head span")) {
      span.addEventListener("click", () => {
        if (sessions.sortKey === span.dataset.sort) sessions.desc = !sessions.desc;
        else { sessions.sortKey = span.dataset.sort; sessions.desc = false; }
        sessions.sort();
        sessions.render(true);
      });
    }
    window.addEventListener("resize", () => sessions.render(true));
    sessions.apply();
  }

  // ------------------------------------------------------------------ XML, trees
  function indentXml(xml) {
    const tokens = xml.match(/<[^>]*>|[^<]+/g) || [];
    const lines = [];
    let depth = 0;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (t[0] !== "<") {
        const s = t.trim();
        if (s) lines.push([depth, s]);
        continue;
      }
      if (t.startsWith("</")) { depth = Math.max(0, depth - 1); lines.push([depth, t]); continue; }
      if (t.startsWith("<?") || t.startsWith("<!") || t.endsWith("/>")) { lines.push([depth, t]); continue; }
      // <a>text</a> on one line
      const next = tokens[i + 1], after = tokens[i + 2];
      if (next !== undefined && next[0] !== "<" && after && after.startsWith("</")) {
        lines.push([depth, t + next.trim() + after]);
        i += 2;
        continue;
      }
      if (next !== undefined && next.startsWith("</")) { lines.push([depth, t + next]); i += 1; continue; }
      lines.push([depth, t]);
      depth++;
    }
    return lines.map(([d, s]) => "  ".repeat(d) + s).join("\n");
  }
  function xmlNode(text) {
    const pre = el("pre", { class: "xml" });
    for (const part of text.match(/<[^>]*>|[^<]+/g) || []) {
      if (part[0] === "<") {
        const m = /^(<\/?[^\s>/]*)([\s\S]*?)(\/?>)$/.exec(part);
        if (m) {
          pre.append(el("span", { class: "tag", text: m[1] }));
          if (m[2]) pre.append(el("span", { class: "attr", text: m[2] }));
          pre.append(el("span", { class: "tag", text: m[3] }));
        } else pre.append(el("span", { class: "tag", text: part }));
      } else pre.append(part.trim() ? el("span", { class: "txt", text: part }) : part);
    }
    return pre;
  }
  function treeNode(value, depth) {
    const ul = el("ul");
    const add = (key, v) => {
      if (v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length)) return;
      if (typeof v === "object") {
        const size = Array.isArray(v) ? v.length : Object.keys(v).length;
        const det = el("details", { open: depth < 2 && size <= 40 }, el("summary", {}, el("span", { class: "k", text: key }),
          Array.isArray(v) ? el("span", { class: "meta", text: ` [${size}]` }) : null));
        det.append(treeNode(v, depth + 1));
        ul.append(el("li", {}, det));
      } else ul.append(el("li", {}, el("span", { class: "k", text: key + ": " }), String(v)));
    };
    if (Array.isArray(value)) value.forEach((v, i) => add(`[${i}]`, v));
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) add(k, v);
    else ul.append(el("li", { text: String(value) }));
    return ul;
  }

  // ------------------------------------------------------------------ a session
  let current = null;
  async function openSession(id, how, arg) {
    const box = clear($("#session"));
    const row = byId.get(id);
    if (!row) { box.append(el("p", { class: "bad", text: `no session ${id} in this report` })); return; }
    box.append(el("p", { class: "meta", text: "unpacking " + id + " …" }));
    let d;
    try { d = await blob("s", id); } catch (e) { clear(box).append(el("p", { class: "bad", text: String(e.message || e) })); return; }
    clear(box);
    current = { id, d, step: -1 };
    const h = d.head;
    const back = IDX.single ? null : el("a", { href: "#sessions", text: "← sessions" });
    const idx = sessions.rows.findIndex((r) => r.id === id);
    const nav = IDX.single ? null : el("span", { class: "meta" },
      idx > 0 ? el("a", { href: "#session/" + encodeURIComponent(sessions.rows[idx - 1].id), text: "◀ previous" }) : null, " ",
      idx >= 0 && idx + 1 < sessions.rows.length ? el("a", { href: "#session/" + encodeURIComponent(sessions.rows[idx + 1].id), text: "next ▶" }) : null);
    box.append(el("div", { class: "session-head" }, back, el("b", { text: `${h.id}  ${h.protocol}${h.version ? " " + h.version : ""}` }),
      kv("device", h.device || "-"), kv("client", h.client), kv("server", h.server_name || h.server), kv("start", h.start + " UTC"),
      kv("duration", h.duration.toFixed(3) + " s"), kv("messages", h.messages), kv("end", h.end_reason || "-"),
      h.session_id ? kv("SessionID", h.session_id) : null, row.badge ? kv("auth", row.badge) : null, nav));
    if (Object.keys(h.identity).length) box.append(el("div", { class: "kv", text: Object.entries(h.identity).map(([k, v]) => `${k}=${v}`).join("  ") }));
    if (row.tls) for (const line of row.tls.lines) box.append(el("pre", { class: "kv", text: line }));
    for (const line of [...d.crs, ...d.objects]) box.append(el("div", { class: "kv", text: line }));
    box.append(el("div", { class: "kv", text: h.summary }));
    if (d.cut) box.append(el("p", { class: "warn", text: `${d.cut} message(s) of this session are shown without their XML and decoded record: over the page's budget per session.` }));
    const wrap = el("div", { class: "msc-wrap" });
    // The chart was made (and every text in it escaped) by dmsniff; it is trusted markup.
    wrap.innerHTML = d.svg;
    box.append(wrap);
    for (const g of wrap.querySelectorAll(".arrow")) {
      const i = parseInt(g.dataset.step, 10);
      g.addEventListener("click", () => selectStep(i));
      g.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter" || ev.key === " ") { selectStep(i); ev.preventDefault(); }
        if (ev.key === "ArrowDown" || ev.key === "j") { selectStep(Math.min(d.steps.length - 1, current.step + 1)); ev.preventDefault(); }
        if (ev.key === "ArrowUp" || ev.key === "k") { selectStep(Math.max(0, current.step - 1)); ev.preventDefault(); }
      });
    }
    const tabs = el("div", { class: "tabs", role: "tablist" });
    const body = el("div", { class: "tab-body", id: "msg-detail" });
    current.tabs = tabs; current.body = body; current.tab = "decoded"; current.wrap = wrap;
    for (const name of ["Decoded", "XML", "HTTP", "Frames", "Auth", "Findings", "Chart source"]) {
      const key = name.toLowerCase().replace(" ", "-");
      tabs.append(el("button", { type: "button", id: "tab-" + key, "data-tab": key, role: "tab", text: name + (name === "Findings" && d.findings.length ? ` (${d.findings.length})` : ""),
        onclick: () => { current.tab = key; drawTab(); } }));
    }
    box.append(tabs, body);
    let start = 0;
    if (how === "frame") {
      const frame = parseInt(arg, 10);
      const hit = d.steps.findIndex((s) => s.frame === frame);
      if (hit >= 0) start = hit;
    } else if (how === "step") start = Math.max(0, Math.min(d.steps.length - 1, parseInt(arg, 10) || 0));
    if (d.steps.length) selectStep(start, how === null);
    else drawTab();
  }
  function kv(k, v) { return el("span", { class: "kv" }, k + " ", el("em", { text: String(v) })); }
  function selectStep(i, quiet) {
    if (!current) return;
    current.step = i;
    for (const g of current.wrap.querySelectorAll(".arrow")) g.classList.toggle("selected", parseInt(g.dataset.step, 10) === i);
    const g = current.wrap.querySelector(`.arrow[data-step="${i}"]`);
    if (g && !quiet) { g.focus({ preventScroll: true }); g.scrollIntoView({ block: "nearest" }); }
    if (current.tab === "findings" || current.tab === "chart-source" || current.tab === "auth") {
      if (!quiet) current.tab = "decoded";
    }
    drawTab();
  }
  function drawTab() {
    const { d, body, tabs } = current;
    for (const b of tabs.children) b.classList.toggle("active", b.dataset.tab === current.tab);
    clear(body);
    const st = d.steps[current.step];
    const head = st ? el("div", { class: "meta", text: `arrow ${current.step + 1} of ${d.steps.length}: ${st.label}  (frame ${st.frame}, ${st.tx}, ${st.offset < 0 ? "" : "+"}${st.offset.toFixed(3)} s)` }) : null;
    switch (current.tab) {
      case "decoded": {
        body.append(head);
        if (!st) break;
        if (st.cut) body.append(el("p", { class: "warn", text: st.cut }));
        const dec = st.decoded;
        if (!dec) break;
        body.append(el("h3", { text: dec.head }));
        if (dec.fields) for (const [k, v] of dec.fields) body.append(el("div", {}, el("b", { text: k + ": " }), String(v)));
        if (dec.commands) {
          body.append(el("h3", { text: "commands" }));
          for (const [line, ok] of dec.commands) body.append(el("pre", { class: ok ? "" : "cmd-bad", text: line }));
        }
        if (dec.record) body.append(el("h3", { text: "record" }), el("div", { class: "tree" }, treeNode(dec.record, 0)));
        if (dec.notes) body.append(el("p", { class: "warn", text: "notes: " + dec.notes.join("; ") }));
        break;
      }
      case "xml":
        body.append(head);
        if (!st) break;
        if (st.xml) {
          body.append(xmlNode(indentXml(st.xml)));
          if (st.xml_cut) body.append(el("p", { class: "meta", text: `… ${fmt(st.xml_cut)} more characters not kept in this page` }));
        } else body.append(el("p", { class: "meta", text: st.cut || st.xml_note || "(no XML body: see the Decoded tab)" }));
        break;
      case "http":
        body.append(head);
        if (!st) break;
        if (st.tls) body.append(el("pre", { class: "ok", text: st.tls + "\n\n" }));
        body.append(el("pre", { text: st.http || "(not kept)" }));
        break;
      case "frames":
        body.append(head);
        if (st) body.append(el("pre", { text: (st.frames || `frame ${st.frame}`) + `\n${st.tx.startsWith("C") ? "transaction" : "datagram"} ${st.tx}` }));
        break;
      case "auth": {
        const rows = d.steps.flatMap((s, i) => s.auth.map((a) => [i, a]));
        if (!rows.length) { body.append(el("p", { class: "meta", text: "No credentials in this session." })); break; }
        const t = el("table", { class: "plain" }, el("thead", {}, el("tr", {}, ...["arrow", "frame", "scheme", "identity", "result", "secret", "reason / notes"].map((c) => el("th", { text: c })))));
        const tb = el("tbody");
        for (const [i, a] of rows) {
          tb.append(el("tr", {}, el("td", {}, el("a", { class: "link", text: String(i + 1), onclick: () => selectStep(i) })),
            el("td", { text: a.frame }), el("td", { text: a.scheme + (a.algorithm ? " " + a.algorithm : "") }),
            el("td", { text: a.identity || "-" }), el("td", { class: "auth-" + a.result, text: a.result + (a.password ? ` (password ${a.password})` : "") }),
            el("td", { text: a.matched || "" }), el("td", { text: [a.reason, ...(a.notes || [])].filter(Boolean).join("; ") })));
        }
        t.append(tb);
        body.append(t);
        break;
      }
      case "findings":
        if (!d.findings.length) { body.append(el("p", { class: "meta", text: "No findings." })); break; }
        for (const f of d.findings) {
          const div = el("div", { class: "finding" },
            el("span", { class: "sev-" + f.severity, text: f.severity.padEnd(8) }), el("code", { text: f.code }), "  ", f.message, " ",
            ...f.steps.map((i) => el("a", { class: "link", text: `→ arrow ${i + 1}`, onclick: () => { flash(f.steps); selectStep(i); } })),
            el("span", { class: "ref", text: f.reference }));
          body.append(div);
        }
        break;
      case "chart-source":
        body.append(el("h3", { text: "Mermaid (paste into Markdown)" }), el("pre", { class: "mono", text: d.mermaid }),
          el("h3", { text: "PlantUML" }), el("pre", { class: "mono", text: d.plantuml }));
        break;
    }
  }
  function flash(indices) {
    for (const i of indices) {
      const g = current.wrap.querySelector(`.arrow[data-step="${i}"]`);
      if (g) { g.classList.add("flash"); setTimeout(() => g.classList.remove("flash"), 1500); }
    }
  }

  // ------------------------------------------------------------------ verification, findings (paged)
  function paged(container, items, draw, header) {
    clear(container);
    let shown = 0;
    const list = el("div");
    const more = el("button", { type: "button", class: "paged-more" });
    container.append(list, more);
    const table = header ? el("table", { class: "plain" }, el("thead", {}, el("tr", {}, ...header.map((c) => el("th", { text: c }))))) : null;
    const tbody = el("tbody");
    if (table) { table.append(tbody); list.append(table); }
    const step = () => {
      const frag = document.createDocumentFragment();
      for (const it of items.slice(shown, shown + 500)) frag.append(draw(it));
      (table ? tbody : list).append(frag);
      shown = Math.min(items.length, shown + 500);
      more.hidden = shown >= items.length;
      more.textContent = `show 500 more (${fmt(items.length - shown)} left)`;
    };
    more.addEventListener("click", step);
    step();
  }
  let authDrawn = false, findingsDrawn = false;
  function sessionLink(id, frame) {
    return id ? el("a", { href: `#session/${encodeURIComponent(id)}` + (frame ? `/frame/${frame}` : ""), text: id }) : "-";
  }
  function authList() {
    if (authDrawn) return;
    authDrawn = true;
    const box = $("#auth-list");
    if (!IDX.auth.length) { box.append(el("p", { class: "meta", text: "None." })); return; }
    if (IDX.auth_total > IDX.auth.length) box.append(el("p", { class: "meta", text: `the first ${fmt(IDX.auth.length)} of ${fmt(IDX.auth_total)}` }));
    const holder = el("div");
    box.append(holder);
    paged(holder, IDX.auth, (a) => el("tr", {}, el("td", { text: a.message }), el("td", { text: a.frame }),
      el("td", { text: a.scheme + (a.algorithm ? " " + a.algorithm : "") }), el("td", { text: a.identity || "-" }),
      el("td", { text: a.direction || "" }), el("td", { class: "auth-" + a.result, text: a.result + (a.password ? ` (password ${a.password})` : "") }),
      el("td", { text: a.matched || "" }), el("td", { text: [a.reason, ...(a.notes || [])].filter(Boolean).join("; ") }),
      el("td", {}, a.session ? sessionLink(a.session, a.frame) : "")),
      ["message", "frame", "scheme", "identity", "direction", "result", "secret", "reason / notes", "session"]);
  }
  function findingList() {
    if (findingsDrawn) return;
    findingsDrawn = true;
    const box = $("#finding-list");
    if (!IDX.findings.length) { box.append(el("p", { class: "meta", text: "None." })); return; }
    if (IDX.findings_total > IDX.findings.length) box.append(el("p", { class: "meta", text: `the first ${fmt(IDX.findings.length)} of ${fmt(IDX.findings_total)} (every rule is counted above; the JSON report lists them all)` }));
    const holder = el("div");
    box.append(holder);
    const items = IDX.findings.slice().sort((a, b) => SEV_ORDER[a[0]] - SEV_ORDER[b[0]]);
    paged(holder, items, ([severity, code, message, frames, session]) => el("div", { class: "finding" },
      el("span", { class: "sev-" + severity, text: severity.padEnd(8) }), el("code", { text: code }), "  ", message,
      frames.length ? el("span", { class: "meta", text: `  (frames ${frames.join(", ")})` }) : null, "  ",
      session ? el("a", { href: `#session/${encodeURIComponent(session)}/frame/${frames[0] || 0}`, text: `→ ${session}` }) : null,
      el("span", { class: "ref", text: IDX.refs[code] || "" })));
  }

  // ------------------------------------------------------------------ devices
  let devicePredicate = () => true;
  function deviceList() {
    const box = clear($("#device-list"));
    const rows = IDX.devices.filter((d) => devicePredicate(d));
    $("#device-count").textContent = `${fmt(rows.length)} of ${fmt(IDX.devices.length)} devices`;
    if (!IDX.devices.length) { box.append(el("p", { class: "meta", text: "No devices." })); return; }
    const grid = el("div", { class: "device-grid" });
    for (const h of ["device", "protocol", "identity", "addresses", "sessions", "parameters"]) grid.append(el("div", { class: "h", text: h }));
    box.append(grid);
    let shown = 0;
    const more = el("button", { type: "button", class: "paged-more" });
    const step = () => {
      for (const d of rows.slice(shown, shown + 500)) {
        grid.append(el("div", {}, el("a", { href: "#device/" + encodeURIComponent(d.id), text: d.id })), el("div", { text: d.proto }),
          el("div", { text: d.identity, title: d.identity }), el("div", { text: d.addresses }), el("div", { class: "num", text: d.sessions }),
          el("div", { class: "num", text: fmt(d.params) }));
      }
      shown = Math.min(rows.length, shown + 500);
      more.hidden = shown >= rows.length;
      more.textContent = `show 500 more (${fmt(rows.length - shown)} left)`;
    };
    more.addEventListener("click", step);
    box.append(more);
    step();
  }
  function initDevices() {
    $("#device-filter").addEventListener("keydown", (ev) => {
      if (ev.key !== "Enter") return;
      const err = $("#device-filter-error");
      try {
        const p = compileFilter(ev.target.value);
        const text = ev.target.value.trim().toLowerCase();
        // A device is listed when one of its sessions matches (or, for a bare word, its id or identity does).
        devicePredicate = !text ? () => true : (d) => d.sids.some((id) => byId.has(id) && p(byId.get(id))) ||
          (!text.includes(":") && (d.id.toLowerCase().includes(text) || d.identity.toLowerCase().includes(text)));
        err.hidden = true;
      } catch (e) {
        if (!(e instanceof FilterError)) throw e;
        err.textContent = `filter error at column ${e.position + 1}: ${e.message}`;
        err.hidden = false;
        return;
      }
      deviceList();
    });
  }
  function spark(values, w, h) {
    const nums = values.map((v) => parseFloat(v[1]));
    const lo = Math.min(...nums), hi = Math.max(...nums);
    const t0 = values[0][0], t1 = values[values.length - 1][0];
    const svg = svgEl("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, class: "spark" });
    const pts = values.map((v, i) => {
      const x = t1 > t0 ? (v[0] - t0) / (t1 - t0) * (w - 4) + 2 : (values.length > 1 ? i / (values.length - 1) * (w - 4) + 2 : w / 2);
      const y = hi > lo ? h - 2 - (nums[i] - lo) / (hi - lo) * (h - 4) : h / 2;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    svg.append(svgEl("polyline", { points: pts.join(" "), fill: "none", stroke: "#0b6e99", "stroke-width": 1.5 }));
    for (const p of pts) { const [x, y] = p.split(","); svg.append(svgEl("circle", { cx: x, cy: y, r: 1.8, fill: "#0b6e99" })); }
    const title = svgEl("title");
    title.textContent = `${values.length} values from ${lo} to ${hi}`;
    svg.append(title);
    return svg;
  }
  async function openDevice(id) {
    const box = clear($("#device"));
    box.append(el("p", { class: "meta", text: "unpacking " + id + " …" }));
    let d;
    try { d = await blob("d", id); } catch (e) { clear(box).append(el("p", { class: "bad", text: String(e.message || e) })); return; }
    clear(box);
    box.append(el("div", { class: "session-head" }, el("a", { href: "#devices", text: "← devices" }), el("b", { text: d.id }), kv("protocol", d.protocol),
      kv("addresses", d.addresses.join(", ") || "-"), d.cr_url ? kv("connection request URL", d.cr_url) : null,
      d.udp_cr ? kv("UDP connection request address", d.udp_cr) : null, d.stun ? kv("STUN bindings", d.stun) : null));
    box.append(el("h2", { text: "Identity" }));
    const it = el("table", { class: "plain" });
    for (const [k, v] of Object.entries(d.identity)) it.append(el("tr", {}, el("th", { text: k }), el("td", { text: v })));
    box.append(it);
    box.append(el("h2", { text: `Sessions (${d.sessions.length})` }));
    const sl = el("div");
    d.sessions.forEach((s, i) => { if (i) sl.append(", "); sl.append(byId.has(s) ? el("a", { href: "#session/" + encodeURIComponent(s), text: s }) : s); });
    box.append(sl);
    if (d.protocol === "omadm" && d.tree.length) {
      box.append(el("h2", { text: "Management tree, as the device reported it" }));
      box.append(dmTree(d.tree));
    }
    if (d.changes.length) {
      box.append(el("h2", { text: d.protocol === "omadm" ? `Changes the device accepted (${fmt(d.changes_total)})` : `Changes sent by the ACS (${fmt(d.changes_total)})` }));
      const t = el("table", { class: "plain" }, el("thead", {}, el("tr", {}, ...["time", "node / parameter", "value", "command", "session"].map((c) => el("th", { text: c })))));
      const tb = el("tbody");
      for (const [time, name, value, source, session, frame] of d.changes) {
        tb.append(el("tr", {}, el("td", { class: "num", text: clock(time) }), el("td", { class: "mono", text: name }), el("td", { text: value }),
          el("td", { text: source }), el("td", {}, sessionLink(session, frame))));
      }
      t.append(tb);
      box.append(t);
    }
    box.append(el("h2", { text: `Parameter history (${fmt(d.params.length)} names)` }));
    const t = el("table", { class: "plain" }, el("thead", {}, el("tr", {}, ...["parameter", "values", "latest", "over time", "history"].map((c) => el("th", { text: c })))));
    const tb = el("tbody");
    const drawParams = (list) => {
      for (const p of list) {
        const last = p.values[p.values.length - 1];
        const distinct = new Set(p.values.map((v) => v[1])).size;
        const hist = el("details", {}, el("summary", { text: `${p.values.length} shown` + (p.count > p.values.length ? ` (newest of ${fmt(p.count)})` : "") }));
        const ht = el("table", { class: "plain" });
        for (const [time, value, source, session, frame] of p.values) {
          ht.append(el("tr", {}, el("td", { class: "num", text: clock(time) }), el("td", { text: value }), el("td", { class: "meta", text: source }),
            el("td", {}, sessionLink(session, frame))));
        }
        hist.append(ht);
        tb.append(el("tr", {}, el("td", { class: "mono", text: p.name }), el("td", { class: "num", text: fmt(p.count) }),
          el("td", { text: last[1] }), el("td", {}, p.numeric && distinct > 1 ? spark(p.values, 140, 26) : el("span", { class: "meta", text: distinct > 1 ? `${distinct} values` : "unchanged" })),
          el("td", {}, hist)));
      }
    };
    drawParams(d.params.slice(0, 1000));
    t.append(tb);
    box.append(t);
    if (d.params.length > 1000) {
      const more = el("button", { type: "button", class: "paged-more", text: `show the other ${fmt(d.params.length - 1000)} parameters` });
      more.addEventListener("click", () => { drawParams(d.params.slice(1000)); more.remove(); });
      box.append(more);
    }
  }
  function dmTree(rows) {
    // rows: [path, value, source, session, frame], paths like ./DevInfo/Mod
    const root = { kids: new Map(), value: null };
    for (const row of rows) {
      let node = root;
      for (const part of row[0].replace(/^\.\//, "").split("/").filter(Boolean)) {
        if (!node.kids.has(part)) node.kids.set(part, { kids: new Map(), value: null });
        node = node.kids.get(part);
      }
      node.value = row;
    }
    const draw = (node) => {
      const ul = el("ul");
      for (const [name, kid] of [...node.kids.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
        const li = el("li", {}, el("span", { class: "k", text: name }));
        if (kid.value) li.append(" = ", el("span", { text: kid.value[1] }), el("span", { class: "meta", text: `  (${kid.value[2]}, ` }),
          sessionLink(kid.value[3], kid.value[4]), el("span", { class: "meta", text: ")" }));
        if (kid.kids.size) li.append(draw(kid));
        ul.append(li);
      }
      return ul;
    };
    return el("div", { class: "tree" }, el("ul", {}, el("li", {}, el("span", { class: "k", text: "." }), draw(root))));
  }

  // ------------------------------------------------------------------ start
  function start() {
    initSessions();
    initDevices();
    route();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
