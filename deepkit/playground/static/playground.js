// deepkit playground: the page. Talks to the local server (deepkit/playground/protocol.py) with small
// JSON requests and a long poll for frames; draws every neuron's map, the weights and the output.
"use strict";

(function () {
  const NEG = [245, 147, 34], MID = [232, 234, 235], POS = [8, 119, 189];
  const NODE = 36, COL = 118, ROW = 46, TOP = 34;
  const OPTIONS = {
    learningRate: [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10],
    regularizationRate: [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10],
    numSamples: [100, 200, 500, 1000, 2000, 5000],
    grid: [20, 30, 40, 50, 64, 80, 100],
  };
  const DATASETS = [["circle", "Circle"], ["xor", "Exclusive or"], ["gauss", "Gaussian"], ["spiral", "Spiral"]];
  const REG_DATASETS = [["reg-plane", "Plane"], ["reg-gauss", "Multi Gaussian"]];

  const pg = window.playground = {
    session: null, config: null, state: null, seq: 0, playing: false, frame: null,
    history: [], featureMaps: {}, busy: false, stopped: false,
  };
  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------------ colours and maps
  function colour(v) {
    const t = Math.max(-1, Math.min(1, v));
    const a = t < 0 ? NEG : POS, f = Math.abs(t);
    return [0, 1, 2].map((i) => Math.round(MID[i] + (a[i] - MID[i]) * f));
  }
  function decode(b64) {
    const raw = atob(b64), out = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = (raw.charCodeAt(i) - 128) / 127;
    return out;
  }
  function paint(canvas, values, discretize) {
    const n = Math.round(Math.sqrt(values.length));
    if (canvas.width !== n) { canvas.width = n; canvas.height = n; }
    const ctx = canvas.getContext("2d"), img = ctx.createImageData(n, n);
    for (let i = 0; i < values.length; i++) {
      let v = values[i];
      if (discretize) v = v >= 0 ? 1 : -1;
      const c = colour(v);
      img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  // ------------------------------------------------------------------ requests
  function note(text, kind) {
    const box = $("notes");
    if (!text) { box.hidden = true; box.textContent = ""; return; }
    box.hidden = false;
    box.className = "notes" + (kind === "error" ? " error" : "");
    box.textContent = text;
  }
  async function request(method, path, body, raw) {
    const init = {method: method, headers: {}};
    if (body !== undefined) {
      init.body = raw ? body : JSON.stringify(body);
      init.headers["Content-Type"] = raw ? "text/plain" : "application/json";
    }
    const response = await fetch(path, init);
    let data = null;
    try { data = await response.json(); } catch (e) { data = {error: "the server answered " + response.status}; }
    if (!response.ok) {
      const error = new Error(data && data.error ? data.error : "HTTP " + response.status);
      error.status = response.status;
      throw error;
    }
    return data;
  }
  async function control(action, settings) {
    if (!pg.session) return;
    try {
      const body = {session: pg.session, action: action};
      if (settings) body.settings = settings;
      const answer = await request("POST", "/api/control", body);
      if (answer.session) applyState(answer);
      else {
        setPlaying(answer.playing);
        if (answer.frame && answer.frame.seq > pg.seq) render(answer.frame);
      }
    } catch (e) {
      note(e.message, "error");
      if (pg.state) applyState(pg.state, true);  // the controls back to what the server has
    }
  }

  // ------------------------------------------------------------------ state from the server
  function fillSelect(select, values, current, label) {
    const known = values.map(String);
    if (current !== undefined && !known.includes(String(current))) values = values.concat([current]);
    select.innerHTML = "";
    for (const v of values) {
      const o = document.createElement("option");
      o.value = String(v); o.textContent = label ? label(v) : String(v);
      select.appendChild(o);
    }
    if (current !== undefined) select.value = String(current);
  }
  function setPlaying(playing) {
    pg.playing = !!playing;
    const b = $("play-pause");
    b.dataset.playing = String(pg.playing);
    b.innerHTML = pg.playing ? "&#x275A;&#x275A;" : "&#x25B6;";
    document.body.classList.toggle("playing", pg.playing);
  }
  function applyState(st, controlsOnly) {
    pg.state = st; pg.config = st.config; pg.session = st.session;
    const c = st.config, o = st.options;
    history.replaceState(null, "", "?" + st.query);
    fillSelect(document.querySelector('[data-setting="learningRate"]'), OPTIONS.learningRate, c.learningRate);
    fillSelect(document.querySelector('[data-setting="regularizationRate"]'), OPTIONS.regularizationRate, c.regularizationRate);
    fillSelect(document.querySelector('[data-setting="activation"]'), o.activations, c.activation, (v) => v === "tanh" ? "Tanh" : v[0].toUpperCase() + v.slice(1));
    fillSelect(document.querySelector('[data-setting="optimizer"]'), o.optimizers, c.optimizer, (v) => ({sgd: "SGD", momentum: "SGD + momentum", adam: "Adam"})[v] || v);
    fillSelect(document.querySelector('[data-setting="regularization"]'), o.regularizations, c.regularization, (v) => v === "none" ? "None" : v);
    fillSelect(document.querySelector('[data-setting="problem"]'), o.problems, c.problem, (v) => v[0].toUpperCase() + v.slice(1));
    fillSelect(document.querySelector('[data-setting="numSamples"]'), OPTIONS.numSamples, c.numSamples);
    fillSelect(document.querySelector('[data-setting="grid"]'), OPTIONS.grid, c.grid, (v) => v + " x " + v);
    for (const key of ["percTrainData", "noise", "batchSize"]) {
      document.querySelector('[data-setting="' + key + '"]').value = c[key];
      $(key + "-value").textContent = c[key];
    }
    document.querySelector('[data-setting="showTestData"]').checked = !!c.showTestData;
    document.querySelector('[data-setting="discretize"]').checked = !!c.discretize;
    for (const b of document.querySelectorAll(".dataset")) b.classList.toggle("selected", b.dataset.dataset === c.dataset);
    $("reg-datasets").hidden = c.problem !== "regression" && c.dataset !== "csv";
    $("datasets").hidden = c.problem === "regression";
    setPlaying(st.playing);
    if (controlsOnly) return;
    $("backend").textContent = "Keras on " + st.backend + (st.fastPath ? ", compiled multi-step loop" : ", model.fit (" + st.fastReason + ")");
    $("data-note").textContent = st.dataNote ? "Your CSV: " + st.dataNote : "";
    note(st.notes && st.notes.length ? st.notes.join(" · ") : "");
    for (const [name, b64] of Object.entries(st.featureMaps)) pg.featureMaps[name] = decode(b64);
    for (const [id, name] of [["export-spec", "playground.yaml"], ["export-keras", "playground.keras"], ["export-data", "playground-data.npz"]]) {
      $(id).href = "/api/export/" + name + "?session=" + encodeURIComponent(st.session);
    }
    fetch("/api/export/report.txt?session=" + encodeURIComponent(st.session))
      .then((r) => r.text()).then((t) => { $("report-cmd").textContent = t.trim(); }).catch(() => {});
    pg.history = [];
    buildNetwork();
    if (st.frame) render(st.frame);
  }

  // ------------------------------------------------------------------ the network drawing
  function nodeCanvas(x, y, id, title) {
    const canvas = document.createElement("canvas");
    canvas.className = "node-map"; canvas.id = id; canvas.title = title;
    canvas.style.left = x + "px"; canvas.style.top = y + "px";
    canvas.width = 10; canvas.height = 10;
    $("network").appendChild(canvas);
    return canvas;
  }
  function position(col, row) { return [20 + col * COL, TOP + row * ROW]; }
  function buildNetwork() {
    const net = $("network");
    for (const el of Array.from(net.querySelectorAll(".node-map, .node-label, .neuron-control, .feature"))) el.remove();
    const c = pg.config, names = Object.keys(pg.state.featureLabels);
    const shape = c.networkShape, layers = shape.length;
    $("layer-count").textContent = layers + " hidden layer" + (layers === 1 ? "" : "s");
    // input features: every feature shown, the unused ones faded; a click turns one on or off
    names.forEach((name, i) => {
      const [x, y] = position(0, i);
      const canvas = nodeCanvas(x, y, "feature-" + name, pg.state.featureLabels[name]);
      canvas.classList.add("feature-map");
      canvas.classList.toggle("off", !c.features.includes(name));
      canvas.addEventListener("click", () => toggleFeature(name));
      paint(canvas, pg.featureMaps[name]);
      const label = document.createElement("div");
      label.className = "node-label feature"; label.textContent = pg.state.featureLabels[name];
      label.style.left = (x - 18) + "px"; label.style.top = (y + NODE + 1) + "px";
      net.appendChild(label);
    });
    shape.forEach((units, l) => {
      const [x] = position(l + 1, 0);
      const ctl = document.createElement("div");
      ctl.className = "neuron-control"; ctl.style.left = (x - 10) + "px"; ctl.style.top = "0px";
      ctl.innerHTML = '<button class="round tiny" title="Add a neuron">+</button><button class="round tiny" title="Remove a neuron">&minus;</button><span>' + units + "</span>";
      const [add, remove] = ctl.querySelectorAll("button");
      add.addEventListener("click", () => changeNeurons(l, +1));
      remove.addEventListener("click", () => changeNeurons(l, -1));
      net.appendChild(ctl);
      for (let j = 0; j < units; j++) {
        const [nx, ny] = position(l + 1, j);
        nodeCanvas(nx, ny, "neuron-" + (l + 1) + "-" + j, "layer " + (l + 1) + ", neuron " + (j + 1));
      }
    });
    const [ox, oy] = position(layers + 1, 0);
    nodeCanvas(ox, oy, "neuron-output", "output");
    const rows = Math.max(names.length, ...shape.concat([1]));
    const width = 20 + (layers + 1) * COL + NODE + 30, height = TOP + rows * ROW + 10;
    net.style.width = width + "px"; net.style.height = height + "px";
    const svg = $("links");
    svg.setAttribute("width", width); svg.setAttribute("height", height);
    svg.innerHTML = "";
  }
  function toggleFeature(name) {
    const on = pg.config.features.slice(), i = on.indexOf(name);
    if (i >= 0) on.splice(i, 1); else on.push(name);
    control("settings", {features: on});
  }
  function changeNeurons(layer, delta) {
    const shape = pg.config.networkShape.slice();
    shape[layer] = Math.max(1, shape[layer] + delta);
    if (shape[layer] > pg.state.limits.neurons) { note("at most " + pg.state.limits.neurons + " neurons in a layer (the server's limit)", "error"); return; }
    control("settings", {networkShape: shape});
  }
  function changeLayers(delta) {
    const shape = pg.config.networkShape.slice();
    if (delta > 0) {
      if (shape.length >= pg.state.limits.layers) { note("at most " + pg.state.limits.layers + " hidden layers (the server's limit)", "error"); return; }
      shape.push(shape.length ? shape[shape.length - 1] : 2);
    } else if (shape.length) shape.pop();
    control("settings", {networkShape: shape});
  }
  function drawLinks(frame) {
    const svg = $("links"), c = pg.config;
    const columns = [c.features.map((f) => Object.keys(pg.state.featureLabels).indexOf(f))];
    c.networkShape.forEach((n) => columns.push([...Array(n).keys()]));
    columns.push([0]);
    let html = "";
    frame.weights.forEach((kernel, l) => {
      kernel.forEach((row, i) => {
        row.forEach((w, j) => {
          if (!columns[l + 1] || columns[l][i] === undefined) return;
          const [x1, y1] = position(l, columns[l][i]), [x2, y2] = position(l + 1, columns[l + 1][j]);
          const ax = x1 + NODE, ay = y1 + NODE / 2, bx = x2, by = y2 + NODE / 2, mx = (ax + bx) / 2;
          const width = Math.min(8, 1 + Math.abs(w) * 1.6).toFixed(2);
          const col = colour(Math.max(-1, Math.min(1, w * 1.5)));
          html += '<path class="link" data-weight="' + w + '" data-from="' + l + ":" + i + '" data-to="' + j +
            '" d="M' + ax + "," + ay + " C" + mx + "," + ay + " " + mx + "," + by + " " + bx + "," + by +
            '" stroke="rgb(' + col.join(",") + ')" stroke-width="' + width + '"><title>weight ' + w.toFixed(4) + "</title></path>";
        });
      });
    });
    svg.innerHTML = html;
  }

  // ------------------------------------------------------------------ frames
  function fmt(v) { return v === null || v === undefined ? "-" : v.toFixed(3); }
  function render(frame) {
    pg.seq = Math.max(pg.seq, frame.seq);
    // A frame of a model rebuilt since the page's state (its answer is on the way): that answer draws it.
    if (!pg.state || frame.build !== pg.state.build) return;
    pg.frame = frame;
    $("epoch").textContent = String(frame.epoch).padStart(6, "0").replace(/(\d{3})(\d{3})$/, "$1,$2");
    $("train-loss").textContent = fmt(frame.loss.train);
    $("test-loss").textContent = fmt(frame.loss.test);
    if (!pg.history.length || pg.history[pg.history.length - 1][0] !== frame.epoch) pg.history.push([frame.epoch, frame.loss.train, frame.loss.test]);
    if (pg.history.length > 600) pg.history.shift();
    frame.maps.forEach((layer, l) => layer.forEach((m, j) => {
      const canvas = $("neuron-" + (l + 1) + "-" + j);
      if (canvas) { paint(canvas, decode(m[0])); canvas.title = "layer " + (l + 1) + ", neuron " + (j + 1) + (m[1] > 1 ? " (scaled by 1/" + m[1] + ")" : ""); }
    }));
    const out = decode(frame.output);
    paint($("neuron-output"), out, pg.config.discretize);
    drawOutput(out);
    drawLinks(frame);
    drawLossChart();
  }
  const offscreen = document.createElement("canvas");
  function drawOutput(values) {
    paint(offscreen, values, pg.config.discretize);
    const canvas = $("output"), ctx = canvas.getContext("2d"), size = canvas.width;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(offscreen, 0, 0, size, size);
    const pts = pg.state.points, problem = pg.state.problem;
    const draw = (list, test) => {
      for (const p of list) {
        const x = (p[0] + 6) / 12 * size, y = (6 - p[1]) / 12 * size;
        const v = problem === "classification" ? 2 * p[2] - 1 : p[2];
        const c = colour(v);
        ctx.beginPath(); ctx.arc(x, y, 3.5, 0, 2 * Math.PI);
        ctx.fillStyle = "rgb(" + c.join(",") + ")"; ctx.fill();
        ctx.lineWidth = 0.8; ctx.strokeStyle = test ? "#000" : "#fff"; ctx.stroke();
      }
    };
    draw(pts.train, false);
    if (pg.config.showTestData) draw(pts.test, true);
  }
  function drawLossChart() {
    const canvas = $("loss-chart"), ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    const hist = pg.history;
    if (hist.length < 2) return;
    let top = 0;
    for (const r of hist) top = Math.max(top, r[1] || 0, r[2] || 0);
    top = top || 1;
    [[1, "#aaa"], [2, "#000"]].forEach(([k, style]) => {
      ctx.beginPath();
      hist.forEach((r, i) => {
        const x = i / (hist.length - 1) * w, y = h - 2 - (r[k] || 0) / top * (h - 4);
        if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      });
      ctx.strokeStyle = style; ctx.lineWidth = 1.5; ctx.stroke();
    });
  }
  async function pollLoop() {
    while (!pg.stopped) {
      if (!pg.session) { await new Promise((r) => setTimeout(r, 200)); continue; }
      try {
        const session = pg.session;
        const answer = await request("GET", "/api/frame?session=" + encodeURIComponent(session) + "&after=" + pg.seq + "&wait=10");
        if (session !== pg.session) continue;
        if (answer.frame && answer.frame.seq > pg.seq) {
          const frame = answer.frame;
          pg.seq = frame.seq;
          await new Promise((r) => requestAnimationFrame(() => { render(frame); r(); }));
        }
        if (answer.playing !== pg.playing) setPlaying(answer.playing);
        if (answer.notes && answer.notes.length && !pg.playing) note(answer.notes.join(" · "));
      } catch (e) {
        if (pg.stopped) return;
        note(e.message, "error");
        if (e.status === 404) return;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  // ------------------------------------------------------------------ dataset thumbnails
  function thumbnail(name) {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 48;
    const ctx = canvas.getContext("2d");
    let seed = 7;
    const rand = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
    ctx.fillStyle = "#f3f3f3"; ctx.fillRect(0, 0, 48, 48);
    const dot = (x, y, v) => {
      const c = colour(v); ctx.fillStyle = "rgb(" + c.join(",") + ")";
      ctx.fillRect(24 + x * 4 - 1, 24 - y * 4 - 1, 2.5, 2.5);
    };
    for (let i = 0; i < 160; i++) {
      const x = rand() * 12 - 6, y = rand() * 12 - 6, r = Math.hypot(x, y), t = Math.atan2(x, y);
      if (name === "circle") { if (r < 2.6 || (r > 3.5 && r < 5.2)) dot(x, y, r < 3 ? 1 : -1); }
      else if (name === "xor") dot(x, y, x * y >= 0 ? 1 : -1);
      else if (name === "gauss") { const a = i % 2 ? 1 : -1, g = () => (rand() + rand() + rand() - 1.5) * 1.6; dot(2 * a + g(), 2 * a + g(), a); }
      else if (name === "spiral") { const k = i / 160 * 5, a = i % 2, th = 1.75 * k / 5 * 2 * Math.PI + a * Math.PI; dot(k * Math.sin(th), k * Math.cos(th), a ? -1 : 1); }
      else if (name === "reg-plane") dot(x, y, (x + y) / 10);
      else if (name === "reg-gauss") dot(x, y, Math.sin(x * 0.8) * Math.sign(y) * (Math.abs(y) > 1 ? 1 : 0.2));
      void t;
    }
    return canvas;
  }
  function buildDatasets() {
    for (const [box, list] of [["datasets", DATASETS], ["reg-datasets", REG_DATASETS]]) {
      for (const [name, title] of list) {
        const b = document.createElement("button");
        b.className = "dataset"; b.dataset.dataset = name; b.title = title;
        b.appendChild(thumbnail(name));
        const span = document.createElement("span"); span.textContent = title; b.appendChild(span);
        b.addEventListener("click", () => control("settings", {dataset: name}));
        $(box).appendChild(b);
      }
    }
  }

  // ------------------------------------------------------------------ wiring
  function wire() {
    buildDatasets();
    $("play-pause").addEventListener("click", () => control(pg.playing ? "pause" : "play"));
    $("step").addEventListener("click", () => control("step"));
    $("reset").addEventListener("click", () => control("reset"));
    $("regenerate").addEventListener("click", () => control("regenerate"));
    $("add-layer").addEventListener("click", () => changeLayers(+1));
    $("remove-layer").addEventListener("click", () => changeLayers(-1));
    for (const el of document.querySelectorAll("[data-setting]")) {
      const key = el.dataset.setting;
      if (el.type === "range") el.addEventListener("input", () => { $(key + "-value").textContent = el.value; });
      el.addEventListener("change", () => {
        const value = el.type === "checkbox" ? el.checked : el.value;
        control("settings", {[key]: value});
      });
    }
    $("preset").addEventListener("change", () => {
      const name = $("preset").value;
      if (name) location.href = "?preset=" + encodeURIComponent(name);
    });
    $("csv").addEventListener("change", async () => {
      const file = $("csv").files[0];
      if (!file || !pg.session) return;
      try {
        const text = await file.text();
        applyState(await request("POST", "/api/upload?session=" + encodeURIComponent(pg.session), text, true));
      } catch (e) { note(e.message, "error"); }
      $("csv").value = "";
    });
    $("network").addEventListener("mousemove", (ev) => {
      const tip = $("tooltip"), t = ev.target;
      if (t.classList && t.classList.contains("link")) {
        tip.hidden = false; tip.textContent = "weight " + Number(t.dataset.weight).toFixed(4);
        tip.style.left = (ev.pageX + 12) + "px"; tip.style.top = (ev.pageY + 12) + "px";
      } else tip.hidden = true;
    });
    window.addEventListener("pagehide", () => {
      pg.stopped = true;
      if (pg.session && navigator.sendBeacon) navigator.sendBeacon("/api/close", JSON.stringify({session: pg.session}));
    });
  }
  async function start() {
    wire();
    try {
      const st = await request("POST", "/api/session", {query: location.search});
      const presets = $("preset");
      for (const [name, title] of Object.entries(st.presets)) {
        const o = document.createElement("option"); o.value = name; o.textContent = title; presets.appendChild(o);
      }
      applyState(st);
      pg.ready = true;
    } catch (e) {
      note("The playground could not start: " + e.message, "error");
      return;
    }
    pollLoop();
  }
  start();
})();
