// The playground of `rnn serve` (docs/serve.md): plain browser JavaScript over the server's
// JSON API, no libraries and no build step. The server writes `plot` at its head: rnn plot's rules
// for a loss chart's axes and labels (PAGE_PLOT in src/serve/server.ts).
/* global plot */

const $ = (id) => document.getElementById(id);

/** −log p (nats) at which a token is coloured fully red. */
const SURPRISE_MAX = 8;

/** `asked`: each form's request (its AbortController) that may be on its way; the sample's is null once it has ended. */
const state = { models: [], model: null, asked: { generate: null, score: null, units: null } };

/** The API with the bearer token when the page has one; a 401 shows the token box. */
async function api(path, body, signal) {
  const headers = { 'Content-Type': 'application/json' };
  const token = $('token').value || sessionStorage.getItem('rnn-token');
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body), signal });
  } catch (err) {
    if (signal?.aborted) throw err;
    // a server at its --max-connections closes one more connection as it comes: to a page, as a stopped server's
    throw new Error(`could not reach the server (${err.message}): is rnn serve still running, with fewer connections open than its --max-connections?`);
  }
  if (res.status === 401) $('token-box').hidden = false;
  return res;
}

/**
 * The answer's JSON; an error answer as an Error with the server's message (or its HTTP
 * status, when it sent no JSON) and, as `field`, the request field the server named.
 */
async function json(res) {
  let answer = null;
  try {
    answer = await res.json();
  } catch {
    if (res.ok) throw new Error(`the server's answer is not JSON (HTTP ${res.status})`);
  }
  if (!res.ok) throw Object.assign(new Error(answer?.error ?? `HTTP ${res.status} ${res.statusText}`.trim()), { field: answer?.field });
  return answer;
}

/**
 * The control that holds each request field, per form (`token`: the token box, which asks for the models); a body over
 * --max-body is its text's.
 */
const FIELD_CONTROLS = {
  token: { authorization: 'token' },
  generate: { prime: 'prime', body: 'prime', len: 'len', seed: 'seed', temperature: 'temperature', topP: 'top-p' },
  score: { text: 'score-text', body: 'score-text' },
  units: { text: 'score-text', body: 'score-text', layer: 'layer', unit: 'unit' },
};

/** Each form's status line, where its errors show: the token box's is the model's line. */
const STATUS_LINES = { token: 'model-info', generate: 'sample-status', score: 'score-status', units: 'units-status' };

/** An error in the form's status line; the control of the field the server named is marked invalid and takes the focus. */
function fail(form, err) {
  status(STATUS_LINES[form], err.message, true);
  const id = FIELD_CONTROLS[form][err.field];
  if (id === undefined) return;
  $(id).setAttribute('aria-invalid', 'true');
  $(id).setAttribute('aria-describedby', STATUS_LINES[form]);
  $(id).focus();
}

/**
 * A form's controls, no longer marked invalid by its errors: on its new request. (Another
 * form's mark on a control they share stays while that form's error line does.)
 */
function clearInvalid(form) {
  for (const id of new Set(Object.values(FIELD_CONTROLS[form]))) {
    if ($(id).getAttribute('aria-describedby') === STATUS_LINES[form]) clearControl(id);
  }
}

function clearControl(id) {
  $(id).removeAttribute('aria-invalid');
  $(id).removeAttribute('aria-describedby');
}

/**
 * A number field's value, or null where it is empty (which asks for `ifEmpty`, not for 0).
 * What the browser cannot read as a number ("1e") it gives as empty too: that is an error
 * naming the field, not a silent `ifEmpty`.
 */
function typedNumber(field, ifEmpty) {
  const input = $(field);
  if (input.validity.badInput) {
    throw Object.assign(new Error(`${input.labels[0].firstChild.textContent.trim()}: not a number: type one, or empty the field for ${ifEmpty}`), { field });
  }
  return input.value.trim() === '' ? null : Number(input.value);
}

/** The chosen model, or null after saying in the status line of `view` (a form: STATUS_LINES) that none is loaded yet. */
function chosenModel(view) {
  if (state.model === null) status(STATUS_LINES[view], $('token-box').hidden ? 'no model loaded yet' : 'no model loaded: enter the token first');
  return state.model;
}

/**
 * A form's status line until the server's first answer. The request may wait in the server's queue
 * (every generation thread taken) before it runs, and only that answer tells the page it ran: a streamed
 * sample's first piece (till then its prime may be read too), or a score's or the units' whole answer,
 * all the server sends them; their line says it waits for the server until then, not that it scores.
 */
function awaitServer(form) {
  status(STATUS_LINES[form], 'waiting for the server…');
}

/** `n`, its digits grouped, and its noun, the noun's plural (an s added) for any `n` but 1: as the server's lines count. */
function counted(n, noun) {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}

/** A status line's text; an error's shows as one, and a screen reader reads it at once, not when it is next idle. */
function status(id, text, isError = false) {
  $(id).setAttribute('aria-live', isError ? 'assertive' : 'polite');
  $(id).textContent = text;
  $(id).classList.toggle('error', isError);
}

async function loadModels() {
  clearInvalid('token');
  let answer;
  try {
    answer = await json(await api('/v1/models'));
  } catch (err) {
    const typed = $('token').value !== '';
    // a server that asks for a token none was typed for: the token box it shows asks for one, no error yet
    if (err.field === 'authorization' && !typed) status('model-info', err.message);
    else fail('token', err.field === 'authorization' ? Object.assign(new Error(`the token was not accepted: ${err.message}`), { field: err.field }) : err);
    return;
  }
  // the token taken: its box goes, the focus handed on to the models it opened
  if ($('token').value !== '') handFocus($('token-box'), $('model'), () => ($('token-box').hidden = true));
  state.models = answer.models;
  // the tokens box offers no more than the server's --max-len, its own default included
  const len = $('len');
  len.max = String(answer.limits.len);
  if (Number(len.value) > answer.limits.len) len.value = len.max;
  const select = $('model');
  select.replaceChildren(...state.models.map((m) => new Option(m.name, m.name)));
  chooseModel(state.models[0]?.name);
}

/** What a document of each --docs rule but `file` is, as the model line names it. */
const DOCUMENT_UNITS = { line: 'lines', blank: 'paragraphs', sentence: 'sentences' };

function chooseModel(name) {
  const m = state.models.find((x) => x.name === name);
  if (!m) return;
  for (const request of Object.values(state.asked)) request?.abort('model');
  state.model = m;
  const { cell, numLayers, hiddenSize } = m.model;
  const per = m.level === 'word' ? 'word' : 'char';
  const best = m.bestValLoss === null ? '' : ` · best val ${m.bestValLoss.toFixed(3)} nats/${per}`;
  // how it cuts a text it reads (--docs), where a document is less than a whole text
  const documents = m.documents.docs === 'file' ? '' : ` · documents: ${DOCUMENT_UNITS[m.documents.docs]}`;
  status('model-info', `${cell.toUpperCase()} ${numLayers}×${hiddenSize} · ${m.level} level${documents} · ${m.vocabSize.toLocaleString()} tokens · ` +
    `${m.parameters.toLocaleString()} parameters · step ${m.step}${best}`);
  $('layer').replaceChildren(...Array.from({ length: numLayers }, (_, k) => new Option(String(k), String(k))));
  $('unit').max = String(hiddenSize - 1);
  // what the page shows of another model goes
  for (const id of ['scored', 'units', 'unit-picks']) $(id).replaceChildren();
  drawPending(); // a stopped sample's text not yet drawn goes with the rest
  for (const part of $('sample').children) part.textContent = '';
  for (const id of ['sample-status', 'score-status', 'units-status']) status(id, '');
  drawLoss(m);
}

// ---- sample ---------------------------------------------------------------------------

/** How a sample ended, as its status line says it where the server's word (`finish`) alone would not be plain. */
const FINISHES = { time: "stopped by the server's time limit, its --time-limit" };

/** The controls of a random draw, which temperature 0 uses none of: it takes the most probable token. */
const DRAW_CONTROLS = ['top-p', 'seed'];

/** Whether the temperature chosen is 0, which draws nothing at random. */
function greedy() {
  return Number($('temperature').value) === 0;
}

/**
 * DRAW_CONTROLS greyed out at temperature 0, saying why, their invalid marks cleared (what is not sent is not wrong), and
 * back with their values as they were above it.
 */
function showDrawControls() {
  for (const id of DRAW_CONTROLS) {
    $(id).disabled = greedy();
    if (greedy()) {
      $(id).title = 'temperature 0 takes the most probable token: top-p and the seed change nothing';
      clearControl(id);
    } else {
      $(id).removeAttribute('title');
    }
  }
}

async function generate() {
  const model = chosenModel('generate');
  if (model === null) return;
  clearInvalid('generate');
  let len, seed;
  try {
    len = typedNumber('len', "the server's default");
    // an empty field: a random seed drawn here, so that even a sample stopped before its end can be drawn again; none at temperature 0
    seed = greedy() ? null : typedNumber('seed', 'a random one') ?? crypto.getRandomValues(new Uint32Array(1))[0];
  } catch (err) {
    fail('generate', err);
    return;
  }
  const prime = $('prime').value;
  const prim = $('sample').querySelector('.prime'), drawn = $('sample').querySelector('.drawn');
  prim.textContent = prime;
  drawn.textContent = '';
  Object.assign(sampleScroll, { follow: true, top: 0 });
  const drawnSoFar = () => {
    drawPending();
    return counted([...drawn.textContent].length, 'character');
  };
  const controller = new AbortController();
  state.asked.generate = controller;
  swapButtons('generate', 'stop');
  awaitServer('generate');
  const started = performance.now();
  let tokens = 0, finish = null, unknownTokens = 0, warnings = [];
  const seeded = seed === null ? '' : ` · seed ${seed}`;
  let queuedSeconds = 0; // the sample's wait in the server's queue, as its first event says it
  let taken = false; // the server answered, with its first piece; until then nothing was read or drawn
  try {
    const body = { model: model.name, prime, temperature: Number($('temperature').value), stream: 'ndjson' };
    // a draw at random's settings, which temperature 0 takes none of (DRAW_CONTROLS)
    if (!greedy()) Object.assign(body, { topP: Number($('top-p').value), seed });
    if (len !== null) body.len = len;
    const res = await api('/v1/generate', body, controller.signal);
    if (!res.ok) await json(res);
    taken = true;
    status('sample-status', 'sampling…');
    const reader = res.body.getReader(), decoder = new TextDecoder();
    let buffered = '';
    for (;;) {
      const { done, value } = await reader.read().catch((err) => {
        if (controller.signal.aborted) throw err;
        throw new Error(`the connection to the server was lost after ${drawnSoFar()} (${err.message}): is rnn serve still running?`);
      });
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        const event = JSON.parse(line);
        if (typeof event.queuedSeconds === 'number') queuedSeconds = event.queuedSeconds;
        if (event.done) ({ tokens, finish, unknownTokens, warnings = [] } = event);
        else if (typeof event.text === 'string') drawPiece(drawn, event);
      }
    }
    if (finish === null) throw new Error(`the server's answer ended early, after ${drawnSoFar()}, without saying how the sample ended`);
    // the time since the click, less the wait in the queue, which is told apart where it comes to a hundredth of a second
    const seconds = Math.max((performance.now() - started) / 1000 - queuedSeconds, 0), waited = queuedSeconds.toFixed(2);
    const wait = Number(waited) === 0 ? '' : `, after ${waited} s waiting in the server's queue`;
    const unread = unknownTokens === 0 ? '' : ` · ${counted(unknownTokens, 'token')} of the prime outside the vocabulary, read as <UNK>`;
    // the server's warnings, in its words: each field sent that changed nothing
    const unused = warnings.map((warning) => ` · ${warning}`).join('');
    status('sample-status', `${counted(tokens, 'token')} in ${seconds.toFixed(2)} s (${FINISHES[finish] ?? finish})${wait}${seeded}${unread}${unused}`);
  } catch (err) {
    if (!taken) prim.textContent = '';
    if (!controller.signal.aborted) fail('generate', err);
    // stopped before any answer (waiting in the server's queue, its threads running other requests): no prime read, nothing drawn
    else if (controller.signal.reason !== 'model') status('sample-status', taken ? `stopped · ${drawnSoFar()} so far${seeded}` : 'stopped before it started: nothing was drawn');
  } finally {
    drawPending();
    followSample();
    state.asked.generate = null;
    swapButtons('stop', 'generate');
  }
}

/**
 * A streamed piece added to the sample box (its text at the next animation frame): its text, after the small
 * EOS tag a scored text's <EOS> shows where it is a drawn <EOS>'s (its text then what parts two documents: a
 * line break, a space, or nothing). The tag is drawn by playground.css, so the text read or copied is the sample's alone.
 */
function drawPiece(drawn, { text, eos }) {
  if (eos === true) {
    drawPending();
    const tag = drawnMark('end');
    drawn.append(tag);
    holdBefore(tag);
  }
  pendingSample.text += text;
  if (pendingSample.frame === 0) {
    pendingSample.frame = requestAnimationFrame(() => {
      drawPending();
      followSample();
    });
  }
}

/**
 * The streamed text not yet in the sample box, drawn at the next animation frame (drawPending), and that frame's
 * request (0: none). A long sample comes in many thousand pieces: drawn and laid out one by one, they would keep
 * the tab too busy to answer Stop; drawn once a frame, into the box's last text, the box holds a text node for
 * each <EOS> only and is laid out once a frame, at most.
 */
const pendingSample = { text: '', frame: 0 };

/** The streamed text not yet drawn, added to the sample box's last text (or as its first text after a tag). */
function drawPending() {
  cancelAnimationFrame(pendingSample.frame);
  pendingSample.frame = 0;
  const { text } = pendingSample;
  pendingSample.text = '';
  if (text === '') return;
  const drawn = $('sample').querySelector('.drawn');
  if (drawn.lastChild instanceof Text) drawn.lastChild.appendData(text);
  else drawn.append(text);
}

/** A mark that playground.css draws (`end`: an <EOS>'s small EOS tag; `newline`: a line break's ↵): an element of no text. */
function drawnMark(className) {
  const mark = document.createElement('span');
  mark.className = className;
  return mark;
}

/**
 * The last character before an <EOS>'s tag, unless it ends a line, held on the tag's line: where the tag does
 * not fit, the line is broken before that character, never between them (after a space, or in a word wider
 * than the box). playground.css styles the two spans it is put in; the text read or copied is the same.
 */
function holdBefore(tag) {
  const walker = document.createTreeWalker(tag.closest('.text'), NodeFilter.SHOW_TEXT);
  walker.currentNode = tag;
  let before = walker.previousNode();
  while (before !== null && before.data === '') before = walker.previousNode();
  if (before === null || before.data.endsWith('\n') || before.parentElement.closest('.held') !== null) return;
  const character = document.createElement('span');
  character.textContent = [...new Intl.Segmenter().segment(before.data)].at(-1).segment;
  before.data = before.data.slice(0, -character.textContent.length);
  const held = document.createElement('span');
  held.className = 'held';
  held.append(character);
  before.after(held);
}

/** Why Generate or Stop is disabled while it is: its title, which a screen reader reads as its description. */
const DISABLED_WHY = { generate: 'a sample is on its way: Stop or Escape ends it', stop: 'no sample is on its way: Generate draws one' };

/** Disables one button, saying why, and enables the other, handing the focus from the first to the second. */
function swapButtons(off, on) {
  $(on).disabled = false;
  $(on).removeAttribute('title');
  $(off).title = DISABLED_WHY[off];
  handFocus($(off), $(on), () => ($(off).disabled = true));
}

/** `takeAway` puts `from` out of reach; the focus, were it in `from`, moves to `to` rather than to nowhere. */
function handFocus(from, to, takeAway) {
  const hadFocus = from.contains(document.activeElement);
  takeAway();
  if (hadFocus) to.focus();
}

/**
 * A streaming sample keeps its newest text in sight, until the reader scrolls up from where it
 * put them (`top`); scrolling back down as far, they follow it again.
 */
const sampleScroll = { follow: true, top: 0 };

function followSample() {
  if (!sampleScroll.follow) return;
  const box = $('sample');
  box.scrollTop = box.scrollHeight;
  sampleScroll.top = box.scrollTop;
}

// ---- surprise -------------------------------------------------------------------------

/** A token coloured by −log p: its place from expected (0) to surprising (1, at SURPRISE_MAX) on the page's scale (playground.css). */
function paintSurprise(span, nats) {
  span.classList.add('surprise');
  span.style.setProperty('--surprise', String(Math.min(Math.max(nats / SURPRISE_MAX, 0), 1)));
}

/** A token coloured by a unit's value in [−1, 1]: blue below zero, red above, by its size (playground.css). */
function paintActivation(span, v) {
  span.classList.add(v < 0 ? 'negative' : 'positive');
  span.style.setProperty('--activation', String(Math.min(Math.abs(v), 1)));
}

/** A token of format characters and marks alone (a lone zero-width joiner, say) draws nothing: it is given width of its own. */
const ZERO_WIDTH = /^[\p{Cf}\p{Mn}\p{Me}]+$/u;

/**
 * A token as the scored text and the unit's show it, named `token` (as the vocabulary names it: a
 * score's `token`, an activation's `names`) and writing `text`: each line break shows a faint ↵
 * before it, and an <EOS> (the closing one, which writes no text, or one between two documents,
 * before what parts them) a tag. playground.css draws both, so the text read or copied is the text alone.
 */
function tokenSpan(token, text) {
  const span = document.createElement('span');
  span.append(...text.split(/(\n)/).flatMap((piece) => (piece === '\n' ? [drawnMark('newline'), piece] : piece === '' ? [] : [piece])));
  Object.assign(span.dataset, { token, text });
  if (ZERO_WIDTH.test(text)) span.classList.add('zero-width');
  if (token === '<EOS>') span.classList.add('end');
  return span;
}

/** A token of combining marks alone: an accent, say, written after its letter, a token of its own at the character level. */
const MARKS = /^[\p{Mn}\p{Me}]+$/u;

/**
 * The tokens of the scored text or the unit's in `box`, the character before each <EOS>'s tag held on the tag's line.
 * A token of marks after a letter goes inside the letter's token: the browser draws a mark on the letter before it
 * only where no element's edge parts them, and on nothing in an element of its own beside it.
 */
function showTokens(box, spans) {
  box.replaceChildren();
  for (const span of spans) {
    const letter = box.lastElementChild;
    if (MARKS.test(span.dataset.text) && letter !== null && letter.dataset.text !== '' && !letter.dataset.text.endsWith('\n')) {
      span.classList.replace('zero-width', 'on-letter');
      letter.append(span);
    } else {
      box.append(span);
    }
  }
  for (const tag of box.querySelectorAll('.end')) holdBefore(tag);
}

/**
 * A token as both views' tips name it: <EOS> and <UNK> by name (an <UNK> after the text it stands
 * for, where it has one), any other quoted, as JSON escapes it.
 */
function tokenName(token, text) {
  if (token === '<EOS>') return token;
  if (token === '<UNK>') return text === undefined ? token : `${JSON.stringify(text)} (<UNK>)`;
  return JSON.stringify(token);
}

/** A new request of `view` (`score`, `units`): the one it asked before, answered or not, is dropped. */
function ask(view) {
  state.asked[view]?.abort();
  state.asked[view] = new AbortController();
  return state.asked[view].signal;
}

async function score() {
  const model = chosenModel('score');
  if (model === null) return;
  const signal = ask('score');
  clearInvalid('score');
  const text = $('score-text').value;
  if (text === '') {
    $('scored').replaceChildren();
    status('score-status', 'nothing to score: type or paste a text above');
    return;
  }
  awaitServer('score');
  try {
    const answer = await json(await api('/v1/score', { model: model.name, text, top: 5 }, signal));
    const spans = answer.tokens.map((t) => {
      const span = tokenSpan(t.token, t.text);
      paintSurprise(span, -t.logProb);
      span.dataset.tip = JSON.stringify(t);
      span.tabIndex = -1; // its tip opens on focus too: the keyboard's and a tap's way to it
      return span;
    });
    // one tab stop for the whole text; the arrow keys move from token to token (moveFocus)
    if (spans.length > 0) spans[0].tabIndex = 0;
    showTokens($('scored'), spans);
    const per = model.level === 'word' ? 'word' : 'char';
    status('score-status', `${counted(answer.predictions, 'prediction')} · ${answer.loss.toFixed(3)} nats/${per} · ${answer.bitsPerToken.toFixed(3)} bits/${per} · ` +
      `perplexity ${answer.perplexity.toFixed(2)} · hover, tap or tab to a token (then the arrow keys) for its probability and the model's top five`);
  } catch (err) {
    if (!signal.aborted) fail('score', err);
  }
}

/** Arrow keys, Home and End in the scored text or the unit's: the focus, and the one tab stop, move to another token. */
function moveFocus(event) {
  const spans = [...event.currentTarget.querySelectorAll('[data-token]')];
  const at = spans.indexOf(document.activeElement);
  if (at < 0) return;
  const to = { ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1, Home: 0, End: spans.length - 1 }[event.key];
  if (to === undefined) return;
  event.preventDefault();
  const next = spans[Math.min(Math.max(to, 0), spans.length - 1)];
  spans[at].tabIndex = -1;
  next.tabIndex = 0;
  next.focus();
}

/** The token, scored or coloured by a unit, whose tip is open, or null. */
let tipToken = null;

/** A token's tip: its probability and the model's top five, or the unit's value after it. */
function showTip(event) {
  const span = event.target.closest('[data-tip], [data-value]');
  if (!span) {
    hideTip();
    return;
  }
  $('tip').replaceChildren(...(span.dataset.tip === undefined ? unitTip(span) : surpriseTip(span)));
  span.setAttribute('aria-describedby', 'tip');
  tipToken = span;
  placeTip();
}

function unitTip(span) {
  const head = document.createElement('div');
  head.className = 'head';
  head.textContent = `unit ${$('units').dataset.unit} after ${tokenName(span.dataset.token, span.dataset.text)}: ${Number(span.dataset.value).toFixed(3)}`;
  return [head];
}

function surpriseTip(span) {
  const t = JSON.parse(span.dataset.tip);
  const head = document.createElement('div');
  head.className = 'head';
  head.textContent = `${tokenName(t.token, t.text)}  p = ${Math.exp(t.logProb).toPrecision(3)}  (−log p ${(-t.logProb).toFixed(2)})`;
  const table = document.createElement('table');
  for (const alt of t.top) {
    const row = table.insertRow();
    if (alt.token === t.token) row.className = 'hit';
    row.insertCell().textContent = tokenName(alt.token);
    row.insertCell().textContent = Math.exp(alt.logProb).toFixed(3);
  }
  return [head, table];
}

/**
 * The open tip beside its token, again after a scroll: below it, or above it where the window
 * ends first; out of sight while the token is.
 */
function placeTip() {
  const tip = $('tip'), box = tipToken.getBoundingClientRect(), seen = tipToken.parentElement.getBoundingClientRect();
  tip.hidden = box.bottom <= Math.max(seen.top, 0) || box.top >= Math.min(seen.bottom, window.innerHeight);
  if (tip.hidden) return;
  tip.style.left = `${Math.max(8, Math.min(box.left, window.innerWidth - tip.offsetWidth - 8))}px`;
  const below = box.bottom + 6;
  tip.style.top = `${below + tip.offsetHeight > window.innerHeight ? Math.max(8, box.top - tip.offsetHeight - 6) : below}px`;
}

function hideTip() {
  tipToken = null;
  $('tip').hidden = true;
}

// ---- hidden units ---------------------------------------------------------------------

/** The text and layer the most active units (the picks) were found for: a unit shown of another text or layer takes them away. */
let picksOf = null;

/** One unit, or the most active ones where `unit` is null; `'field'`: what the unit field asks for. */
async function showUnits(unit) {
  const model = chosenModel('units');
  if (model === null) return;
  const signal = ask('units');
  clearInvalid('units');
  if (unit === 'field') {
    try {
      unit = typedNumber('unit', 'the most active units');
    } catch (err) {
      fail('units', err);
      return;
    }
  }
  const body = { model: model.name, text: $('score-text').value, layer: Number($('layer').value) };
  if (body.text === '') {
    for (const id of ['units', 'unit-picks']) $(id).replaceChildren();
    status('units-status', 'nothing to show: type or paste a text in the Surprise box');
    return;
  }
  if (unit === null) body.top = 8;
  else body.unit = unit;
  awaitServer('units');
  try {
    const answer = await json(await api('/v1/activations', body, signal));
    if (answer.tokens.length === 0) {
      for (const id of ['units', 'unit-picks']) $(id).replaceChildren();
      status('units-status', 'nothing to show: the model reads no token in this text (white space alone makes none for it)');
      return;
    }
    if (unit === null) {
      picksOf = { text: body.text, layer: body.layer };
      $('unit-picks').replaceChildren(...answer.units.map((u) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = `unit ${u.unit}`;
        b.addEventListener('click', () => {
          $('layer').value = String(body.layer);
          paintUnit(answer, u);
        });
        return b;
      }));
    } else if (picksOf?.text !== body.text || picksOf?.layer !== body.layer) {
      $('unit-picks').replaceChildren();
    }
    paintUnit(answer, answer.units[0]);
    status('units-status', '');
  } catch (err) {
    if (!signal.aborted) fail('units', err);
  }
}

/** `unit`'s `values` after each token of an /v1/activations answer. */
function paintUnit({ tokens, names }, { unit, values }) {
  $('unit').value = String(unit);
  for (const b of $('unit-picks').children) b.setAttribute('aria-pressed', String(b.textContent === `unit ${unit}`));
  hideTip();
  $('units').dataset.unit = String(unit);
  showTokens($('units'), tokens.map((text, i) => {
    const span = tokenSpan(names[i], text);
    paintActivation(span, values[i]);
    span.dataset.value = String(values[i]);
    span.tabIndex = i === 0 ? 0 : -1; // one tab stop, as the scored text is
    return span;
  }));
}

// ---- loss chart -----------------------------------------------------------------------

const SVG = 'http://www.w3.org/2000/svg';

function svg(name, attrs, text) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** The chart's width in the page's pixels: drawn at its box's own width, its labels keep their size on a phone. */
function chartWidth(box) {
  return Math.max(280, Math.round(box.clientWidth) || 640);
}

/**
 * The height, in pixels, the loss axis asks for each of the steps it aims at: a short chart (a
 * phone's) aims at fewer, so that its labels stay apart (rnn plot's ticks may take one step more).
 */
const LOSS_TICK_ROOM = 28;

function drawLoss(m) {
  const box = $('loss-chart');
  const points = m.history;
  if (points.length === 0) {
    const note = Object.assign(document.createElement('p'), { className: 'muted' });
    note.textContent = 'No evaluations recorded: this model has no training history (an imported one, or one saved before its first evaluation).';
    box.replaceChildren(note);
    delete box.dataset.width;
    return;
  }
  const W = chartWidth(box), H = Math.min(260, Math.round(W * 0.6)), L = 46, R = 14, T = 12, B = 34;
  const xs = points.map((p) => p.tokensSeen);
  const val = points.filter((p) => p.valLoss !== null);
  const lines = [points.map((p) => ({ loss: p.trainLoss })), val.map((p) => ({ loss: p.valLoss }))];
  // both axes as `rnn plot` draws them: tokens from 0; losses from a tick at or below the lowest to one at or above the
  // highest, of those at or under the model's loss ceiling (a line above it cut at the top)
  const ceiling = plot.lossCeiling([m.vocabSize]), range = plot.lossRange(lines, ceiling);
  const x = plot.niceTicks(0, Math.max(...xs, 1), W < 480 ? 4 : 6);
  const y = plot.niceTicks(range.lowest, range.highest, Math.min(6, Math.floor((H - T - B) / LOSS_TICK_ROOM)));
  // room above the highest tick for the key, so that no point sits under it
  const yTop = y.hi + 0.12 * (y.hi - y.lo);
  const X = (v) => L + ((v - x.lo) / (x.hi - x.lo)) * (W - L - R);
  const Y = (v) => T + (1 - (v - y.lo) / (yTop - y.lo)) * (H - T - B);
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'training and validation loss' });
  for (const v of y.values) {
    chart.append(svg('line', { class: 'grid', x1: L, x2: W - R, y1: Y(v), y2: Y(v) }));
    chart.append(svg('text', { x: L - 6, y: Y(v) + 4, 'text-anchor': 'end' }, v.toFixed(y.decimals)));
  }
  for (const v of x.values) chart.append(svg('text', { x: X(v), y: H - B + 16, 'text-anchor': 'middle' }, plot.formatTokenCount(v)));
  chart.append(svg('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }));
  chart.append(svg('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }));
  // the lines and dots drawn up to the highest tick (and a dot's radius above it)
  const plotArea = svg('clipPath', { id: 'loss-plot' });
  plotArea.append(svg('rect', { x: L, y: Y(y.hi) - 3, width: W - L - R, height: H - B - Y(y.hi) + 3 }));
  chart.append(plotArea);
  const inPlot = { 'clip-path': 'url(#loss-plot)' };
  chart.append(svg('polyline', { class: 'train', ...inPlot, points: points.map((p) => `${X(p.tokensSeen)},${Y(p.trainLoss)}`).join(' ') }));
  // a line of one point draws nothing: a lone evaluation is a dot
  if (points.length === 1) chart.append(svg('circle', { class: 'train-dot', ...inPlot, cx: X(xs[0]), cy: Y(points[0].trainLoss), r: 2.5 }));
  chart.append(svg('polyline', { class: 'val', ...inPlot, points: val.map((p) => `${X(p.tokensSeen)},${Y(p.valLoss)}`).join(' ') }));
  for (const p of val) chart.append(svg('circle', { class: 'val-dot', ...inPlot, cx: X(p.tokensSeen), cy: Y(p.valLoss), r: 2.5 }));
  chart.append(svg('line', { class: 'train', x1: W - 150, x2: W - 130, y1: T + 8, y2: T + 8 }));
  chart.append(svg('text', { x: W - 125, y: T + 12 }, 'train'));
  if (val.length > 0) {
    chart.append(svg('line', { class: 'val', x1: W - 80, x2: W - 60, y1: T + 8, y2: T + 8 }));
    chart.append(svg('text', { x: W - 55, y: T + 12 }, 'validation'));
  }
  chart.append(svg('text', { x: (L + W - R) / 2, y: H - 4, 'text-anchor': 'middle' }, `${m.level === 'word' ? 'tokens' : 'characters'} seen`));
  box.replaceChildren(chart);
  const highest = lines.flat().reduce((most, p) => Math.max(most, p.loss), -Infinity);
  if (highest > y.hi) {
    const note = Object.assign(document.createElement('p'), { className: 'muted' });
    note.textContent = `Losses go ${plot.offChartNote(highest, 3)}: the axis stops at ${ceiling.toFixed(2)}, as rnn plot's does.`;
    box.append(note);
  }
  box.dataset.width = String(W);
}

// the chart redrawn when its box changes width (a window resized, a phone turned)
new ResizeObserver(() => {
  const box = $('loss-chart');
  if (state.model !== null && box.dataset.width !== undefined && box.dataset.width !== String(chartWidth(box))) drawLoss(state.model);
}).observe($('loss-chart'));

// ---- wiring ---------------------------------------------------------------------------

for (const [input, output, digits] of [['temperature', 'temperature-value', 2], ['top-p', 'top-p-value', 2]]) {
  $(input).addEventListener('input', () => ($(output).textContent = Number($(input).value).toFixed(digits)));
}
$('temperature').addEventListener('input', showDrawControls);
showDrawControls(); // a temperature of 0 the browser kept from an earlier visit
$('model').addEventListener('change', (e) => chooseModel(e.target.value));
/** A form's submission (its button, Enter in a field, Ctrl+Enter in its text box) runs `run`, and the page stays put. */
function onSubmit(id, run) {
  $(id).addEventListener('submit', (event) => {
    event.preventDefault();
    run();
  });
}
onSubmit('generate-form', () => {
  if (state.asked.generate === null) generate();
});
onSubmit('score-form', score);
// an empty unit field asks for no one unit: the most active ones, as the Most active button does
onSubmit('units-form', () => showUnits('field'));
onSubmit('token-box', () => {});
for (const box of ['prime', 'score-text']) {
  $(box).addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });
}
for (const id of new Set(Object.values(FIELD_CONTROLS).flatMap((controls) => Object.values(controls)))) {
  $(id).addEventListener('input', () => clearControl(id));
}
$('stop').title = DISABLED_WHY.stop;
$('stop').addEventListener('click', () => state.asked.generate?.abort());
$('sample').addEventListener('scroll', () => (sampleScroll.follow = $('sample').scrollTop >= sampleScroll.top - 1), { passive: true });
$('use-sample').addEventListener('click', () => {
  const text = $('sample').textContent;
  if (text) $('score-text').value = text;
  else status('score-status', 'nothing sampled yet: Generate one first');
});
$('most-active').addEventListener('click', () => showUnits(null));
for (const box of ['scored', 'units']) {
  for (const event of ['mouseover', 'focusin', 'click']) $(box).addEventListener(event, showTip);
  $(box).addEventListener('keydown', moveFocus);
  for (const event of ['mouseleave', 'focusout']) $(box).addEventListener(event, hideTip);
}
// the page or the scored text scrolled: the tip goes with its token
document.addEventListener('scroll', () => tipToken !== null && placeTip(), { capture: true, passive: true });
// Escape closes an open tip, the pointer or the focus staying where it is; with none open, it stops a streaming sample as Stop does
document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape') return;
  if (tipToken !== null) hideTip();
  else $('stop').click();
});
$('token').addEventListener('change', () => {
  sessionStorage.setItem('rnn-token', $('token').value);
  loadModels();
});
loadModels();
