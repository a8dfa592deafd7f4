// The FashionGAN demo page: asks the server (this machine) for everything; no outside resources.
"use strict";

const state = {
  info: null,
  person: null, // {kind: "test", index} or {kind: "upload", image: File, labels: File}
  sentenceOk: false,
  checkTimer: null,
  checkCounter: 0,
  busy: false,
};

const $ = (id) => document.getElementById(id);

async function api(path, options) {
  const response = await fetch(path, options);
  const type = response.headers.get("content-type") || "";
  const body = type.includes("application/json") ? await response.json() : null;
  if (!response.ok) {
    throw new Error((body && body.error) || `the server answered HTTP ${response.status}`);
  }
  return body;
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

function setBusy(busy) {
  state.busy = busy;
  $("busy").hidden = !busy;
  updateButtons();
}

function updateButtons() {
  const ready = state.person !== null && state.sentenceOk && !state.busy;
  $("run").disabled = !ready;
  $("run-grid").disabled = state.person === null || state.busy || !state.info.grid_sentences.length;
}

// 1. The person.

function choosePerson(person, name) {
  state.person = person;
  $("chosen-name").textContent = name;
  for (const button of document.querySelectorAll("#gallery button")) {
    button.classList.toggle("selected", person.kind === "test" && Number(button.dataset.index) === person.index);
    button.setAttribute("aria-pressed", String(button.classList.contains("selected")));
  }
  updateButtons();
}

function buildGallery(info) {
  const gallery = $("gallery");
  for (let i = 0; i < info.people.thumbnails; i++) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "person";
    button.dataset.index = String(i);
    button.title = `test person ${i}: ${info.people.sentences[i]}`;
    button.setAttribute("aria-pressed", "false");
    const image = document.createElement("img");
    image.src = `/api/people/${i}/image.png`;
    image.alt = `test person ${i}`;
    button.append(image);
    button.addEventListener("click", () => choosePerson({kind: "test", index: i}, `test person ${i}`));
    gallery.append(button);
  }
  if (info.people.error || !info.people.thumbnails) {
    $("gallery-note").textContent = info.people.error || "This run has no test people to show: upload a picture.";
    $("gallery-note").hidden = false;
  }
}

async function useUpload() {
  const image = $("upload-image").files[0];
  const labels = $("upload-labels").files[0];
  if (!image || !labels) {
    showError("upload: choose both the picture and its label map");
    return;
  }
  const form = new FormData();
  form.append("image", image);
  form.append("labels", labels);
  try {
    await api("/api/person", {method: "POST", body: form});
    showError("");
    choosePerson({kind: "upload", image, labels}, `your upload (${image.name}, ${labels.name})`);
  } catch (error) {
    showError(error.message);
  }
}

// 2. The sentence: checked as you type, words completed from the vocabulary.

function completeWords(text) {
  const match = /([a-z-]*)$/i.exec(text);
  const partial = match ? match[1].toLowerCase() : "";
  const head = text.slice(0, text.length - partial.length);
  const list = $("words");
  list.replaceChildren();
  if (!partial) return;
  const words = state.info.vocabulary.filter((w) => w.startsWith(partial) && w !== partial).slice(0, 30);
  for (const word of words) {
    const option = document.createElement("option");
    option.value = head + word;
    list.append(option);
  }
}

async function checkSentence() {
  const sentence = $("sentence").value;
  const ticket = ++state.checkCounter;
  state.sentenceOk = false;
  updateButtons();
  try {
    const checked = await api(`/api/check?sentence=${encodeURIComponent(sentence)}`);
    if (ticket !== state.checkCounter) return; // a newer check is on its way
    state.sentenceOk = checked.ok;
    const status = $("sentence-status");
    status.textContent = checked.ok ? `all ${checked.words.length} words known` : checked.message;
    status.className = checked.ok ? "ok" : "bad";
    updateButtons();
  } catch (error) {
    showError(error.message);
  }
}

function onSentenceInput() {
  completeWords($("sentence").value);
  clearTimeout(state.checkTimer);
  state.checkTimer = setTimeout(checkSentence, 120);
}

// 3. Running the models.

function requestForm(withSentence) {
  const form = new FormData();
  if (state.person.kind === "test") {
    form.append("person", String(state.person.index));
  } else {
    form.append("image", state.person.image);
    form.append("labels", state.person.labels);
  }
  if (withSentence) form.append("sentence", $("sentence").value);
  form.append("model", $("model").value);
  form.append("identity", $("identity").value);
  form.append("seed", $("seed").value);
  return form;
}

function downloadLink(url, name, text) {
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.textContent = text;
  return link;
}

function showResult(result, seconds) {
  const images = result.images;
  $("out-input").src = images.input;
  $("out-input-labels").src = images.input_labels;
  $("out-output").src = images.output;
  const segmentation = $("out-segmentation");
  segmentation.closest("figure").hidden = !images.segmentation;
  if (images.segmentation) segmentation.src = images.segmentation;
  $("result-caption").textContent =
    `"${result.sentence}" - ${result.model}, identity ${result.identity}, seed ${result.seed}` +
    (result.two_stage ? "" : " (a One-Step model: no segmentation)");
  const stem = `${result.model}_seed${result.seed}`;
  const links = [
    downloadLink(images.input, "input.png", "input"),
    downloadLink(images.input_labels, "input_labels.png", "its label map"),
    images.segmentation ? downloadLink(images.segmentation, `segmentation_${stem}.png`, "segmentation") : null,
    downloadLink(images.output, `redressed_${stem}.png`, "rendered"),
  ].filter(Boolean);
  const downloads = $("downloads");
  downloads.replaceChildren("Download PNG: ");
  links.forEach((link, i) => downloads.append(...(i ? [", ", link] : [link])));
  $("timing").textContent = `models ${result.seconds.toFixed(3)} s, request ${seconds.toFixed(3)} s`;
  $("result-section").hidden = false;
}

async function run(kind) {
  if (state.person === null) return;
  showError("");
  setBusy(true);
  const start = performance.now();
  try {
    const result = await api(`/api/${kind}`, {method: "POST", body: requestForm(kind === "redress")});
    const seconds = (performance.now() - start) / 1000;
    if (kind === "redress") {
      showResult(result, seconds);
    } else {
      $("grid-image").src = result.image;
      $("grid-download").href = result.image;
      $("grid-download").download = `redress_grid_${result.model}_seed${result.seed}.png`;
      $("grid-timing").textContent = `models ${result.seconds.toFixed(2)} s, request ${seconds.toFixed(2)} s`;
      $("grid-section").hidden = false;
    }
  } catch (error) {
    showError(error.message);
  } finally {
    setBusy(false);
  }
}

// The page.

function fillSelect(select, options) {
  for (const [value, text] of options) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = text;
    select.append(option);
  }
}

function buildLegend(legend) {
  const list = $("legend");
  for (const entry of legend) {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = entry.color;
    item.append(swatch, `${entry.id} ${entry.name}`);
    list.append(item);
  }
}

async function start() {
  try {
    const info = await api("/api/info");
    state.info = info;
    $("run-info").textContent =
      `Run ${info.run}: ${info.image_size}x${info.image_size} people, ` +
      `${info.models.length} trained model${info.models.length === 1 ? "" : "s"}, ` +
      `${info.vocabulary.length}-word vocabulary.`;
    for (const span of document.querySelectorAll(".image-size")) {
      span.textContent = `${info.image_size}x${info.image_size} pixels`;
    }
    buildGallery(info);
    buildLegend(info.legend);
    fillSelect($("model"), info.models.map((m) => [m.name, m.title.includes(m.name) ? m.title : `${m.title} (${m.name})`]));
    fillSelect($("identity"), info.identity_modes.map((m) => [m, m]));
    $("seed").max = String(info.max_seed);
    $("sentence").maxLength = info.max_sentence_chars;
    $("sentence").value = info.example_sentence;
    $("run-grid").hidden = !info.grid_sentences.length;
    $("sentence").addEventListener("input", onSentenceInput);
    $("use-upload").addEventListener("click", useUpload);
    $("run").addEventListener("click", () => run("redress"));
    $("run-grid").addEventListener("click", () => run("grid"));
    $("curves").addEventListener("toggle", showCurves, {once: true});
    if (info.people.thumbnails) choosePerson({kind: "test", index: 0}, "test person 0");
    await checkSentence();
    document.body.dataset.ready = "true";
  } catch (error) {
    showError(`the demo could not start: ${error.message}`);
  }
}

async function showCurves() {
  const image = $("curves-image");
  image.addEventListener("error", async () => {
    try {
      await api("/api/loss-curves.png");
    } catch (error) {
      $("curves-note").textContent = error.message;
    }
  });
  image.src = "/api/loss-curves.png";
}

document.addEventListener("DOMContentLoaded", start);
