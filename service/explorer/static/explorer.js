// The Neuronhub explorer: plain JavaScript over the public API, no library, no build step.
// Every word from the service is put into the page as text (textContent / text nodes), never as markup.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const SVG_NS = "http://www.w3.org/2000/svg";
  const TOP_K = 10;
  const CARD_K = 5;
  const DIAGRAM_CONTEXT_CHARS = 300; // the diagram's limit for ?context=
  const JOB_POLL_MS = 1500;
  const PREFERRED = ["demo-english", "neuron-language-model"];

  const boot = readBootstrap();
  const state = {
    networks: [],
    training: new Map(), // network name -> {job, state, progress}
    network: null, // the selected network's summary (from GET /v1/networks)
    generation: 0, // bumped on every network change: answers for an older selection are dropped
    context: null, // the context (language) or inputs (plain) last run
    inputs: null,
    interventions: [], // [{layer, index, set} | {layer, index, scale}]
    selected: null, // {layer, index}
    card: null,
    explained: null, // the target word (language) or output index (plain) being explained
  };

  // --- small helpers ---------------------------------------------------------------------------

  function readBootstrap() {
    try {
      return JSON.parse($("explorer-bootstrap").textContent);
    } catch (error) {
      return { keys: "off", training: [] };
    }
  }

  function el(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === "class") element.className = value;
      else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
      else element.setAttribute(name, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) element.append(child instanceof Node ? child : String(child));
    }
    return element;
  }

  function svg(tag, attributes, text) {
    const element = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes || {})) element.setAttribute(name, String(value));
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function fmt(x, digits = 4) {
    if (typeof x !== "number") return String(x);
    if (!Number.isFinite(x)) return String(x);
    if (x === 0) return "0";
    return String(Number(x.toPrecision(digits)));
  }

  function percent(p) {
    return (100 * p).toFixed(p >= 0.001 ? 2 : 4) + " %";
  }

  const enc = encodeURIComponent;
  const networkPath = (suffix) => `/v1/networks/${enc(state.network.name)}${suffix}`;
  const isLanguage = (summary) => summary && summary.vocabulary_size !== undefined && summary.vocabulary_size !== null;

  // --- the API ---------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, problem, what) {
      super((problem && problem.detail) || (problem && problem.title) || `HTTP ${status}`);
      this.status = status;
      this.problem = problem || {};
      this.what = what;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json, image/svg+xml" };
    const key = $("api-key").value.trim();
    if (key) headers["X-API-Key"] = key;
    const init = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      throw new ApiError(0, { title: "The service cannot be reached", detail: String((error && error.message) || error) }, `${method} ${path}`);
    }
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok) {
      let problem = { title: response.statusText || `HTTP ${response.status}`, detail: "" };
      if (type.includes("json")) {
        try {
          problem = await response.json();
        } catch (error) {
          // keep the status line
        }
      }
      throw new ApiError(response.status, problem, `${method} ${path.split("?")[0]}`);
    }
    return type.includes("json") ? response.json() : response.text();
  }

  // --- errors and status -----------------------------------------------------------------------

  function clearErrors() {
    $("errors").replaceChildren();
  }

  function showError(error) {
    const box = el("div", { class: "error" });
    if (error instanceof ApiError) {
      const problem = error.problem;
      const title = `${error.status ? error.status + " " : ""}${problem.title || "Error"}`;
      box.append(el("strong", {}, title), el("span", {}, problem.detail || ""));
      if (problem.errors && typeof problem.errors === "object") {
        const list = el("ul");
        for (const [field, messages] of Object.entries(problem.errors)) {
          list.append(el("li", {}, `${field}: ${[].concat(messages).join("; ")}`));
        }
        box.append(list);
      }
      box.append(el("small", { class: "hint" }, ` (${error.what}${problem.request_id ? ", request " + problem.request_id : ""})`));
      if (error.status === 401 || error.status === 403) {
        $("key-box").hidden = false;
        $("key-box").open = true;
      }
    } else {
      box.append(el("strong", {}, "Error"), el("span", {}, String((error && error.message) || error)));
    }
    $("errors").append(box);
  }

  function guard(action) {
    return async (...args) => {
      try {
        await action(...args);
      } catch (error) {
        showError(error);
      }
    };
  }

  function setStatus(...children) {
    $("status").replaceChildren(...children);
  }

  // --- networks and training jobs --------------------------------------------------------------

  async function loadNetworks() {
    const items = [];
    let cursor = null;
    for (let page = 0; page < 50; page += 1) {
      const query = new URLSearchParams({ limit: "100" });
      if (cursor) query.set("cursor", cursor);
      const body = await api("GET", `/v1/networks?${query}`);
      items.push(...body.items);
      cursor = body.next_cursor;
      if (!cursor) break;
    }
    state.networks = items;
    renderPicker();
  }

  function describe(summary) {
    if (isLanguage(summary)) return `${summary.name} — language, ${summary.vocabulary_size} words`;
    return `${summary.name} — ${summary.layer_sizes.join("-")}`;
  }

  function renderPicker() {
    const select = $("network");
    const chosen = state.network ? state.network.name : null;
    const options = [el("option", { value: "" }, state.networks.length ? "— choose a network —" : "— no networks stored —")];
    for (const summary of state.networks) options.push(el("option", { value: summary.name }, describe(summary)));
    const stored = new Set(state.networks.map((s) => s.name));
    for (const [name, job] of state.training) {
      if (!stored.has(name)) options.push(el("option", { value: "", disabled: "" }, `${name} — training ${progressText(job)}`));
    }
    select.replaceChildren(...options);
    select.value = chosen && stored.has(chosen) ? chosen : "";
  }

  function progressText(job) {
    const progress = job.progress || {};
    if (job.state === "queued") return "(queued)";
    if (progress.total_steps) return `(${Math.floor((100 * progress.step) / progress.total_steps)} %)`;
    return "(starting)";
  }

  function renderTraining() {
    const parts = [];
    for (const [name, job] of state.training) {
      const progress = job.progress || {};
      const share = progress.total_steps ? progress.step / progress.total_steps : 0;
      const bar = el("span", { class: "progress" }, el("span"));
      bar.firstChild.style.width = `${(100 * share).toFixed(1)}%`;
      const loss = typeof job.loss === "number" ? `, loss ${fmt(job.loss)}` : "";
      parts.push(el("div", { class: "training", "data-network": name },
        `${name} is being trained: ${job.state} ${progressText(job)}${loss}. It appears here when its job is done.`, bar));
    }
    setStatus(...parts);
  }

  function watchTraining(entries) {
    for (const entry of entries) {
      if (state.networks.some((s) => s.name === entry.network)) continue; // a retraining: the old one still answers
      if (state.training.has(entry.network)) continue; // already followed (start() runs again when the key changes)
      state.training.set(entry.network, { id: entry.job, state: "queued", progress: {} });
      pollJob(entry.network, entry.job);
    }
    renderPicker();
    renderTraining();
  }

  async function pollJob(name, id) {
    try {
      const job = await api("GET", `/v1/jobs/${enc(id)}`);
      state.training.set(name, job);
      if (job.state === "succeeded") {
        state.training.delete(name);
        await loadNetworks();
        if (!state.network) await chooseDefault();
      } else if (job.state === "failed" || job.state === "cancelled") {
        state.training.delete(name);
        const error = job.error || {};
        showError(new Error(`training ${name} ${job.state}: ${[error.title, error.detail].filter(Boolean).join(": ")}`));
      } else {
        setTimeout(() => pollJob(name, id), JOB_POLL_MS);
      }
    } catch (error) {
      state.training.delete(name);
      showError(error);
    }
    renderPicker();
    renderTraining();
  }

  async function chooseDefault() {
    const fromHash = new URLSearchParams(location.hash.slice(1)).get("network");
    const names = state.networks.map((s) => s.name);
    const wanted = [fromHash, ...PREFERRED].find((name) => name && names.includes(name))
      || (state.networks.find(isLanguage) || state.networks[0] || {}).name;
    if (wanted) await selectNetwork(wanted);
  }

  // --- choosing a network ----------------------------------------------------------------------

  async function selectNetwork(name) {
    const summary = state.networks.find((s) => s.name === name) || null;
    state.generation += 1;
    Object.assign(state, { network: summary, context: null, inputs: null, interventions: [], selected: null, card: null, explained: null });
    $("network").value = summary ? name : "";
    for (const id of ["predictions", "outputs", "neuron-panel", "explain-panel", "interventions"]) $(id).hidden = true;
    $("diagram").replaceChildren();
    if (!summary) {
      $("network-title").textContent = "Pick a network";
      $("network-description").textContent = "";
      $("language-form").hidden = $("plain-form").hidden = true;
      return;
    }
    history.replaceState(null, "", `#network=${enc(name)}`);
    const language = isLanguage(summary);
    $("network-title").textContent = describe(summary);
    $("network-description").textContent = summary.description || "";
    $("language-form").hidden = !language;
    $("plain-form").hidden = language;
    if (language) {
      $("context").placeholder = `a few words; the last ${summary.context_size} are read`;
    } else {
      $("inputs-hint").textContent = `(${summary.input_size} numbers)`;
      $("inputs").placeholder = Array.from({ length: Math.min(summary.input_size, 6) }, (_, i) => (i % 2 ? "1" : "0.5")).join(", ")
        + (summary.input_size > 6 ? ", …" : "");
    }
    const generation = state.generation;
    const picture = await api("GET", networkPath("/diagram.svg"));
    if (generation === state.generation && state.context === null && state.inputs === null) renderDiagram(picture);
  }

  // --- running the network -----------------------------------------------------------------------

  function interventionBody() {
    return state.interventions.map((i) => ("set" in i ? { layer: i.layer, index: i.index, set: i.set } : { layer: i.layer, index: i.index, scale: i.scale }));
  }

  async function runLanguage() {
    const generation = state.generation;
    const context = $("context").value;
    const body = { context, top_k: Math.min(TOP_K, state.network.vocabulary_size) };
    if (state.interventions.length) body.interventions = interventionBody();
    const [prediction, picture] = await Promise.all([
      api("POST", networkPath("/predict"), body),
      api("GET", networkPath(`/diagram.svg?context=${enc(Array.from(context).slice(-DIAGRAM_CONTEXT_CHARS).join(""))}`)), // the end holds the words read; by characters, as the API counts (never half a surrogate pair)
    ]);
    if (generation !== state.generation) return;
    state.context = context;
    renderPrediction(prediction);
    renderDiagram(picture);
    renderInterventions(prediction.effect);
    if (state.selected) renderNow();
    if (state.explained !== null) await explain(state.explained);
  }

  function parseInputs() {
    const size = state.network.input_size;
    const parts = $("inputs").value.split(/[\s,;]+/).filter((p) => p !== "");
    const values = parts.map(Number);
    if (values.length !== size || values.some((v) => !Number.isFinite(v))) {
      throw new Error(`Inputs: expected ${size} numbers separated by commas, got “${$("inputs").value}”`);
    }
    return values;
  }

  async function runPlain() {
    const generation = state.generation;
    const inputs = parseInputs();
    const requests = [
      api("POST", networkPath("/forward"), { inputs, trace: true, ...(state.interventions.length ? { interventions: interventionBody() } : {}) }),
      api("GET", networkPath(`/diagram.svg?inputs=${enc(inputs.join(","))}`)),
    ];
    if (state.interventions.length) requests.push(api("POST", networkPath("/forward"), { inputs }));
    const [forward, picture, baseline] = await Promise.all(requests);
    if (generation !== state.generation) return;
    state.inputs = inputs;
    renderOutputs(forward, baseline);
    renderDiagram(picture);
    renderInterventions(null);
    if (state.selected) renderNow();
    if (state.explained !== null) await explain(state.explained);
  }

  async function rerun() {
    if (!state.network) return;
    if (isLanguage(state.network)) await runLanguage();
    else if ($("inputs").value.trim() !== "") await runPlain();
  }

  // --- bars --------------------------------------------------------------------------------------

  function bar(label, share, value, options = {}) {
    const fill = el("span", { class: "fill" });
    fill.style.width = `${Math.max(0, Math.min(1, share)) * 100}%`;
    const track = el("span", { class: "track" }, fill);
    if (options.ghost !== undefined) {
      const ghost = el("span", { class: "ghost", title: "without the interventions" });
      ghost.style.width = `${Math.max(0, Math.min(1, options.ghost)) * 100}%`;
      track.append(ghost);
    }
    const item = el("li", { class: "bar" + (options.onclick ? " clickable" : "") },
      el("span", { class: "label", title: label }, label), track, el("span", { class: "value" }, value));
    if (options.onclick) {
      item.addEventListener("click", options.onclick);
      item.tabIndex = 0;
      item.addEventListener("keydown", (event) => { if (event.key === "Enter") options.onclick(); });
    }
    return item;
  }

  function divergingBar(label, x, peak, options = {}) {
    const fill = el("span", { class: "fill" + (x < 0 ? " negative" : "") });
    const share = peak > 0 ? Math.min(1, Math.abs(x) / peak) / 2 : 0;
    fill.style.width = `${share * 100}%`;
    fill.style.left = x < 0 ? `${(0.5 - share) * 100}%` : "50%";
    const item = el("li", { class: "bar" + (options.onclick ? " clickable" : "") },
      el("span", { class: "label", title: label }, label), el("span", { class: "track" }, fill), el("span", { class: "value" }, fmt(x, 3)));
    if (options.onclick) {
      item.addEventListener("click", options.onclick);
      item.tabIndex = 0;
    }
    return item;
  }

  function renderPrediction(prediction) {
    const baseline = new Map(((prediction.effect && prediction.effect.baseline) || []).map((w) => [w.word, w.probability]));
    const peak = Math.max(...prediction.words.map((w) => w.probability), ...baseline.values(), 1e-12);
    const items = prediction.words.map((w) => {
      const item = bar(w.word, w.probability / peak, percent(w.probability), {
        ghost: prediction.effect ? (baseline.get(w.word) || 0) / peak : undefined,
        onclick: guard(() => explain(w.word)),
      });
      item.dataset.word = w.word;
      item.dataset.probability = String(w.probability);
      return item;
    });
    $("prediction-bars").replaceChildren(...items);
    $("predictions").hidden = false;
  }

  function renderOutputs(forward, baseline) {
    const outputs = [].concat(forward.outputs);
    const before = baseline ? [].concat(baseline.outputs) : null;
    const peak = Math.max(...outputs.map(Math.abs), ...(before || []).map(Math.abs), 1e-12);
    const items = outputs.map((value, i) => {
      const item = divergingBar(`output ${i}`, value, peak, { onclick: guard(() => explain(i)) });
      if (before) item.querySelector(".value").textContent = `${fmt(value, 3)} (was ${fmt(before[i], 3)})`;
      item.dataset.value = String(value);
      return item;
    });
    $("output-bars").replaceChildren(...items);
    const table = el("table");
    for (const step of forward.trace || []) {
      const shown = 16;
      const row = (title, values) => el("tr", {}, el("th", {}, title),
        ...values.slice(0, shown).map((v) => el("td", {}, fmt(v, 3))),
        values.length > shown ? el("td", {}, `… ${values.length - shown} more`) : null);
      table.append(row(`layer ${step.layer} z`, step.weighted_sums), row(`${step.activation}(z)`, step.activations));
    }
    $("trace").replaceChildren(table);
    $("outputs").hidden = false;
  }

  // --- the diagram -------------------------------------------------------------------------------

  function renderDiagram(text) {
    const parsed = new DOMParser().parseFromString(text, "image/svg+xml");
    const root = parsed.documentElement;
    if (root.localName !== "svg" || parsed.getElementsByTagName("parsererror").length) {
      throw new Error("the diagram could not be read as SVG");
    }
    $("diagram").replaceChildren(document.importNode(root, true));
    markDiagram();
  }

  function circleOf(layer, index) {
    return $("diagram").querySelector(`circle[data-layer="${Number(layer)}"][data-index="${Number(index)}"]`);
  }

  function markDiagram() {
    for (const circle of $("diagram").querySelectorAll("circle.selected, circle.intervened")) circle.classList.remove("selected", "intervened");
    for (const i of state.interventions) {
      const circle = circleOf(i.layer, i.index);
      if (circle) circle.classList.add("intervened");
    }
    if (state.selected) {
      const circle = circleOf(state.selected.layer, state.selected.index);
      if (circle) circle.classList.add("selected");
    }
  }

  // --- a neuron's card ---------------------------------------------------------------------------

  async function openNeuron(layer, index) {
    const generation = state.generation;
    state.selected = { layer, index };
    markDiagram();
    const card = await api("GET", networkPath(`/layers/${layer}/neurons/${index}?k=${CARD_K}`));
    if (generation !== state.generation) return;
    state.card = card;
    renderCard(card);
  }

  function summaryOf(values) {
    const n = values.length;
    if (!n) return "none";
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    let squares = 0;
    let positive = 0;
    for (const v of values) {
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
      squares += v * v;
      if (v > 0) positive += 1;
    }
    return `${n} values: min ${fmt(min, 3)}, max ${fmt(max, 3)}, mean ${fmt(sum / n, 3)}, ‖w‖ ${fmt(Math.sqrt(squares), 3)}, ${Math.round((100 * positive) / n)} % positive`;
  }

  function definitionList(pairs) {
    const list = el("dl");
    for (const [term, value] of pairs) {
      if (value === undefined || value === null) continue;
      list.append(el("dt", {}, term), el("dd", {}, value));
    }
    return list;
  }

  function wordLists(title, value, out) {
    if (Array.isArray(value)) {
      if (value.length && value.every((item) => item && typeof item === "object" && "word" in item)) {
        const list = el("ol");
        for (const item of value) {
          const score = ["score", "weight", "logit"].find((key) => typeof item[key] === "number");
          list.append(el("li", {}, `${item.word}${score ? "  " + fmt(item[score], 3) : ""}`));
        }
        out.push(el("section", {}, el("h4", {}, title), list));
      } else {
        value.forEach((item, i) => {
          const name = item && typeof item === "object" && "slot" in item ? `slot ${item.slot}` : `${i}`;
          wordLists(title ? `${title} · ${name}` : name, item, out);
        });
      }
    } else if (value && typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) {
        if (key === "slot" || key === "word" && typeof inner === "string") continue;
        wordLists(title ? `${title} · ${key.replace(/_/g, " ")}` : key.replace(/_/g, " "), inner, out);
      }
    }
    return out;
  }

  function renderCard(card) {
    $("neuron-panel").hidden = false;
    $("neuron-title").textContent = `Layer ${card.layer} · neuron ${card.index} (${card.activation})`;
    const editable = canIntervene(card.layer);
    for (const action of ["ablate", "set", "scale"]) $(action).disabled = !editable;
    $("intervene-hint").hidden = editable;
    const parts = [definitionList([
      ["bias", fmt(card.bias)],
      ["fan in / out", `${card.fan_in} / ${card.fan_out}`],
      ["weights", summaryOf(card.weights || [])],
      ["outgoing", card.outgoing ? summaryOf(card.outgoing) : "— (output layer)"],
    ])];
    if (Array.isArray(card.strongest_inputs) && card.strongest_inputs.length) {
      const list = el("ol");
      for (const s of card.strongest_inputs) list.append(el("li", {}, `input ${s.input}: ${fmt(s.weight, 3)}`));
      parts.push(el("h3", {}, "Strongest inputs"), list);
    }
    for (const [key, title] of [["input_words", "Input words"], ["output_words", "Output words"]]) {
      if (card[key]) parts.push(el("h3", {}, title), el("div", { class: "words" }, ...wordLists("", card[key], [])));
    }
    $("neuron-card").replaceChildren(...parts);
    renderNow();
  }

  function renderNow() {
    if (!state.selected) return;
    const circle = circleOf(state.selected.layer, state.selected.index);
    const activation = state.card ? state.card.activation : null;
    const intervention = state.interventions.find((i) => i.layer === state.selected.layer && i.index === state.selected.index);
    const note = intervention ? ("set" in intervention ? `set to ${fmt(intervention.set)}` : `scaled by ${fmt(intervention.scale)}`) : null;
    if (circle && circle.hasAttribute("data-activation")) {
      const z = Number(circle.getAttribute("data-weighted-sum"));
      const a = Number(circle.getAttribute("data-activation"));
      $("neuron-now").replaceChildren(definitionList([
        ["weighted sum z", fmt(z)], ["activation now", fmt(a)], ["intervention", note],
      ]));
      $("neuron-now").dataset.activation = String(a);
      plotActivation(activation, z, a);
    } else {
      $("neuron-now").replaceChildren(el("p", { class: "hint" }, isLanguage(state.network) ? "Type a context to see this neuron's activation." : "Run inputs to see this neuron's activation."));
      delete $("neuron-now").dataset.activation;
      plotActivation(activation, null, null);
    }
  }

  // --- the activation function with z marked -------------------------------------------------------

  function erf(x) { // Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, plenty for a picture
    const sign = x < 0 ? -1 : 1;
    const t = 1 / (1 + 0.3275911 * Math.abs(x));
    const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
    return sign * y;
  }

  function sigmoid(z) {
    const e = Math.exp(-Math.abs(z));
    return z >= 0 ? 1 / (1 + e) : e / (1 + e);
  }

  const FUNCTIONS = {
    identity: (z) => z,
    relu: (z) => Math.max(0, z),
    leaky_relu: (z) => (z >= 0 ? z : 0.01 * z),
    sigmoid,
    tanh: Math.tanh,
    softplus: (z) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))),
    silu: (z) => z * sigmoid(z),
    gelu: (z) => 0.5 * z * (1 + erf(z / Math.SQRT2)),
    gelu_tanh: (z) => 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z * z * z))),
  };

  function plotActivation(name, z, a) {
    const plot = $("activation-plot");
    const f = FUNCTIONS[name];
    if (!f) {
      plot.replaceChildren(svg("text", { x: 10, y: 80 }, name === "softmax"
        ? "softmax: each neuron's share depends on the whole layer" : "pick a neuron"));
      return;
    }
    const W = 300, H = 170, pad = 22;
    const range = Math.max(4, z === null ? 0 : Math.abs(z) * 1.25);
    const xs = Array.from({ length: 161 }, (_, i) => -range + (2 * range * i) / 160);
    const ys = xs.map(f);
    let low = Math.min(...ys, a === null ? 0 : a, 0);
    let high = Math.max(...ys, a === null ? 0 : a, 0);
    if (high - low < 1e-9) { high += 1; low -= 1; }
    const px = (x) => pad + ((x + range) / (2 * range)) * (W - 2 * pad);
    const py = (y) => H - pad - ((y - low) / (high - low)) * (H - 2 * pad);
    const path = xs.map((x, i) => `${i ? "L" : "M"}${px(x).toFixed(1)},${py(ys[i]).toFixed(1)}`).join("");
    const children = [
      svg("line", { class: "axis", x1: pad, x2: W - pad, y1: py(0), y2: py(0) }),
      svg("line", { class: "axis", x1: px(0), x2: px(0), y1: pad / 2, y2: H - pad }),
      svg("path", { class: "curve", d: path }),
      svg("text", { x: pad, y: 12 }, `${name}(z)`),
      svg("text", { x: W - pad, y: H - 6, "text-anchor": "end" }, `z from ${fmt(-range, 3)} to ${fmt(range, 3)}`),
    ];
    if (z !== null) {
      children.push(
        svg("line", { class: "guide", x1: px(z), x2: px(z), y1: pad / 2, y2: H - pad }),
        svg("circle", { class: "marker", cx: px(z), cy: py(a), r: 5 }),
        svg("text", { x: W - pad, y: 12, "text-anchor": "end" }, `z = ${fmt(z, 3)}, f(z) = ${fmt(a, 3)}`),
      );
    }
    plot.replaceChildren(...children);
    plot.setAttribute("aria-label", `${name} activation function${z === null ? "" : `, z = ${fmt(z, 3)} marked`}`);
  }

  // --- interventions -----------------------------------------------------------------------------

  function readNumber(id, what) {
    const value = Number($(id).value);
    if ($(id).value.trim() === "" || !Number.isFinite(value)) throw new Error(`${what}: expected a number, got “${$(id).value}”`);
    return value;
  }

  async function intervene(change) {
    clearErrors();
    if (!state.selected) return;
    const { layer, index } = state.selected;
    const before = state.interventions;
    state.interventions = [...before.filter((i) => !(i.layer === layer && i.index === index)), { layer, index, ...change }];
    try {
      await rerun();
    } catch (error) {
      state.interventions = before; // one the API refuses is not kept, or every later run would be refused too
      throw error;
    }
  }

  function canIntervene(layer) { // a language network's output layer holds the words' logits: the API takes hidden layers
    return !isLanguage(state.network) || layer < state.network.layer_sizes.length - 2;
  }

  function renderInterventions(effect) {
    const list = state.interventions.map((i, k) => el("li", {},
      `layer ${i.layer} · neuron ${i.index}: ${"set" in i ? `set to ${fmt(i.set)}` : `scaled by ${fmt(i.scale)}`} `,
      el("button", { type: "button", class: "remove", title: "remove", onclick: guard(async () => {
        state.interventions.splice(k, 1);
        await rerun();
      }) }, "×")));
    $("intervention-list").replaceChildren(...list);
    $("interventions").hidden = state.interventions.length === 0;
    const kl = effect && typeof effect.kl_divergence === "number" ? effect.kl_divergence : null;
    $("kl").textContent = kl === null ? "–" : fmt(kl, 4);
    $("kl").dataset.value = kl === null ? "" : String(kl);
    $("kl").parentElement.hidden = !isLanguage(state.network);
    markDiagram();
  }

  // --- explaining a prediction -----------------------------------------------------------------

  async function explain(target) {
    const generation = state.generation;
    const language = isLanguage(state.network);
    const body = language ? { context: $("context").value, target, k: TOP_K } : { inputs: parseInputs(), output: target, k: TOP_K };
    const answer = await api("POST", networkPath("/explain"), body);
    if (generation !== state.generation) return;
    state.explained = target;
    $("explain-panel").hidden = false;
    $("explain-title").textContent = (language ? `Why “${answer.target}”?` : `Why output ${target}?`)
      + (state.interventions.length ? " (without the interventions)" : "");
    $("explain-summary").replaceChildren(definitionList([
      ["logit", typeof answer.logit === "number" ? fmt(answer.logit) : undefined],
      ["weighted sum", typeof answer.weighted_sum === "number" ? fmt(answer.weighted_sum) : undefined],
      ["probability", typeof answer.probability === "number" ? percent(answer.probability) : undefined],
      ["log p", typeof answer.logprob === "number" ? fmt(answer.logprob) : undefined],
      ["output bias", fmt(answer.bias)],
      ["all neurons together", fmt(answer.attribution_total)],
    ]));
    const neurons = answer.neurons || [];
    const peak = Math.max(...neurons.map((n) => Math.abs(n.attribution)), 1e-12);
    $("attribution-bars").replaceChildren(...neurons.map((n) => divergingBar(`L${n.layer} · ${n.index}`, n.attribution, peak,
      { onclick: guard(() => openNeuron(n.layer, n.index)) })));
    const slots = answer.slots || [];
    $("slot-box").hidden = slots.length === 0;
    const slotPeak = Math.max(...slots.map((s) => Math.abs(s.delta_logprob)), 1e-12);
    $("slot-bars").replaceChildren(...slots.map((s, i) => divergingBar(
      s.word !== undefined ? s.word : s.token !== undefined ? s.token : `slot ${i}`, s.delta_logprob, slotPeak)));
  }

  // --- wiring ------------------------------------------------------------------------------------

  function setUpKeyBox() {
    const hint = {
      required: "This service needs an API key for reading (a read or an admin key).",
      writes: "Keys are on for writes only; the explorer only reads, so it needs none.",
      off: "",
    }[boot.keys] || "";
    $("key-hint").textContent = hint;
    $("key-box").hidden = boot.keys === "off";
    $("key-box").open = boot.keys === "required";
    $("api-key").value = sessionStorage.getItem("neuronhub-key") || "";
    $("api-key").addEventListener("change", guard(async () => {
      sessionStorage.setItem("neuronhub-key", $("api-key").value.trim());
      clearErrors();
      await start();
    }));
  }

  async function start() {
    if (boot.keys === "required" && !$("api-key").value.trim()) {
      setStatus("Enter an API key to start.");
      return;
    }
    await loadNetworks();
    watchTraining(boot.training || []);
    if (!state.networks.length && !state.training.size) setStatus("No networks are stored yet.");
    if (!state.network) await chooseDefault();
  }

  function busy(form, action) {
    return guard(async (event) => {
      if (event) event.preventDefault();
      clearErrors();
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        await action();
      } finally {
        button.disabled = false;
      }
    });
  }

  $("language-form").addEventListener("submit", busy($("language-form"), runLanguage));
  $("plain-form").addEventListener("submit", busy($("plain-form"), runPlain));
  $("network").addEventListener("change", guard(async () => {
    clearErrors();
    await selectNetwork($("network").value);
  }));
  $("diagram").addEventListener("click", guard(async (event) => {
    const circle = event.target.closest("circle[data-layer]");
    if (!circle) return;
    clearErrors();
    await openNeuron(Number(circle.getAttribute("data-layer")), Number(circle.getAttribute("data-index")));
  }));
  $("ablate").addEventListener("click", guard(() => intervene({ set: 0 })));
  $("set").addEventListener("click", guard(() => intervene({ set: readNumber("set-value", "Set to") })));
  $("scale").addEventListener("click", guard(() => intervene({ scale: readNumber("scale-value", "Scale by") })));
  $("clear-interventions").addEventListener("click", guard(async () => {
    state.interventions = [];
    await rerun();
  }));
  setUpKeyBox();
  guard(start)();
})();
