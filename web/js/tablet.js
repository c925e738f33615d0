// The tablet: sign in once as this tablet's Cognito user (its custom:displayId names the display),
// then for each visitor: consent -> theme -> photo (camera, or a file as the fallback) ->
// POST /visits -> upload through the presigned POST -> live status -> reset for the next visitor.
// The visitor picks 한국어 or English on the first screen (Korean unless they choose); the visit
// carries it, so the portrait's title, story and audio, the wall tile and their phone follow it.
import { $, ApiError, CognitoAuth, THEMES, api, el, loadConfig, ownerUrl, params } from './common.js';
import { DEFAULT_LANGUAGE, t, translate } from './i18n.js';
import qrcode from '/vendor/qrcode-generator-2.0.4/qrcode.mjs';

const COUNTDOWN = Number(params.get('countdown') ?? 3);
// Long enough for the visitor to scan their private link before the next visitor steps up.
const DONE_RESET_SECONDS = Number(params.get('reset') ?? 45);
const IDLE_RESET_SECONDS = Number(params.get('idle') ?? 120);
const POLL_MS = 1000;
const GIVE_UP_MS = 180000;

let cfg;
let auth;
const visit = { theme: null, photo: null, id: null, secret: null, token: 0, language: DEFAULT_LANGUAGE };
let stream = null;
let idleTimer = null;
let doneTimer = null;

const SCREENS = ['signin', 'welcome', 'declined', 'theme', 'camera', 'review', 'status'];

function show(name) {
  for (const s of SCREENS) $(`#${s}`).hidden = s !== name;
  document.body.dataset.screen = name;
  // Staff can sign the tablet out only between visitors.
  $('#signout').hidden = !(name === 'welcome' && auth && auth.signedIn);
  if (name !== 'camera') stopCamera();
  armIdle(name);
}

function armIdle(name) {
  clearTimeout(idleTimer);
  if (['signin', 'welcome'].includes(name) || !IDLE_RESET_SECONDS) return;
  idleTimer = setTimeout(reset, IDLE_RESET_SECONDS * 1000);
}

/** Every word on the tablet in the visitor's language (staff sign-in stays English). */
function speak(language) {
  visit.language = language;
  for (const b of document.querySelectorAll('.lang')) {
    b.setAttribute('aria-pressed', String(b.dataset.language === language));
  }
  const id = auth && auth.signedIn ? displayId() : '?';
  translate(language, {
    display: t(language, 'display', { display: id }),
    retention: t(language, 'days', { days: (cfg && cfg.retentionDays) || 7 }),
  });
}

function say(key, vars) {
  return t(visit.language, key, vars);
}

function reset() {
  clearTimeout(doneTimer);
  speak(DEFAULT_LANGUAGE); // the next visitor chooses again
  visit.theme = null;
  visit.photo = null;
  visit.id = null;
  visit.secret = null;
  $('#owner-qr').replaceChildren();
  $('#owner-link').removeAttribute('href');
  visit.token += 1; // stops any status polling of the previous visitor
  delete document.body.dataset.visit;
  $('#file').value = '';
  $('#preview').removeAttribute('src');
  $('#result').removeAttribute('src');
  for (const id of ['#result-title', '#result-story']) {
    $(id).textContent = '';
    $(id).removeAttribute('lang');
  }
  for (const b of document.querySelectorAll('.theme')) b.setAttribute('aria-pressed', 'false');
  $('#theme-next').disabled = true;
  show(auth && auth.signedIn ? 'welcome' : 'signin');
}

function displayId() {
  return auth.claims()['custom:displayId'] || '?';
}

function signedIn() {
  const id = displayId();
  $('#display-chip').textContent = `Display ${id}`;
  $('#display-chip').hidden = false;
  reset();
}

// ------------------------------------------------------------------ camera
async function startCamera() {
  show('camera');
  const shutter = $('#shutter');
  const error = $('#camera-error');
  shutter.disabled = true;
  shutter.hidden = false;
  error.hidden = true;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    cameraUnavailable(say('camera.none'));
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: 'user', width: { ideal: 1280 }, height: { ideal: 960 } },
      audio: false,
    });
  } catch (e) {
    cameraUnavailable(say('camera.unavailable'));
    return;
  }
  if (document.body.dataset.screen !== 'camera') {
    stopCamera();
    return;
  }
  const video = $('#video');
  video.srcObject = stream;
  video.onloadeddata = () => {
    shutter.disabled = false;
  };
}

function cameraUnavailable(message) {
  const error = $('#camera-error');
  error.textContent = message;
  error.hidden = false;
  $('#shutter').hidden = true;
}

function stopCamera() {
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = null;
  const video = $('#video');
  if (video) video.srcObject = null;
}

async function takePhoto() {
  const shutter = $('#shutter');
  shutter.disabled = true;
  const count = $('#countdown');
  for (let n = COUNTDOWN; n > 0; n--) {
    count.hidden = false;
    count.textContent = String(n);
    await new Promise((r) => setTimeout(r, 1000));
  }
  count.hidden = true;
  const video = $('#video');
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d').drawImage(video, 0, 0);
  const blob = await new Promise((r) => canvas.toBlob(r, 'image/jpeg', 0.92));
  shutter.disabled = false;
  if (!blob) return;
  review(blob);
}

function review(blob) {
  visit.photo = blob;
  const preview = $('#preview');
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(blob);
  show('review');
}

/** A JPEG or PNG within the upload limit, as is; anything else is re-encoded as a JPEG. */
async function uploadable(blob, maxBytes) {
  if (['image/jpeg', 'image/png'].includes(blob.type) && blob.size <= maxBytes) return blob;
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch {
    throw new Error(say('error.unreadable'));
  }
  const scale = Math.min(1, 2400 / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return new Promise((r) => canvas.toBlob(r, 'image/jpeg', 0.9));
}

// ------------------------------------------------------------------ the visit
function status(kind, detail = {}) {
  $('#processing').hidden = kind !== 'processing';
  $('#done').hidden = kind !== 'done';
  $('#rejected').hidden = !['rejected', 'failed'].includes(kind);
  $('#retake').hidden = !['rejected', 'failed'].includes(kind);
  $('#start-over').hidden = !['rejected', 'failed'].includes(kind);
  $('#next').hidden = kind !== 'done';
  document.body.dataset.status = kind;
  if (kind === 'processing') $('#processing-text').textContent = detail.text || say('status.painting');
  if (kind === 'rejected' || kind === 'failed') $('#reason').textContent = detail.message;
  if (kind === 'done') {
    $('#result').src = detail.imageUrl || '';
    // The title and story are in the visit's language (the API says which); lang picks the font
    // and a screen reader's voice.
    const language = detail.language || visit.language;
    $('#result-title').textContent = detail.title || say('done.title');
    $('#result-title').lang = detail.title ? language : visit.language;
    $('#result-story').textContent = detail.story || '';
    $('#result-story').lang = language;
    // The visitor's private link (view and delete): shown here, to them alone, never on the wall.
    const link = visit.secret ? ownerUrl(cfg, visit.id, visit.secret) : '';
    const qr = qrcode(0, 'M');
    qr.addData(link);
    qr.make();
    $('#owner-qr').innerHTML = link ? qr.createSvgTag({ cellSize: 4, margin: 2, scalable: true }) : '';
    $('#owner-link').href = link;
    $('#owner-box').hidden = !link;
    clearTimeout(doneTimer);
    if (DONE_RESET_SECONDS) doneTimer = setTimeout(reset, DONE_RESET_SECONDS * 1000);
  }
}

async function send() {
  show('status');
  status('processing', { text: say('status.sending') });
  const mine = ++visit.token;
  try {
    const token = await auth.idToken();
    if (!token) {
      reset();
      return;
    }
    let created;
    try {
      created = await api(cfg, '/visits', {
        method: 'POST',
        token,
        body: { theme: visit.theme, consent: true, language: visit.language },
      });
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        auth.signOut();
        reset();
        return;
      }
      throw e;
    }
    visit.id = created.visitId;
    visit.secret = created.ownerSecret || null;
    document.body.dataset.visit = created.visitId;
    const photo = await uploadable(visit.photo, created.upload.maxBytes || 15 * 1024 * 1024);
    const form = new FormData();
    for (const [k, v] of Object.entries(created.upload.fields)) form.append(k, v);
    form.append('Content-Type', photo.type || 'image/jpeg');
    form.append('file', photo, 'photo');
    const up = await fetch(created.upload.url, { method: 'POST', body: form });
    if (!up.ok) throw new Error(say('error.upload', { status: up.status }));
    status('processing');
    await follow(created.visitId, mine);
  } catch (e) {
    if (mine === visit.token) status('failed', { message: e.message || say('error.any') });
  }
}

async function follow(visitId, mine) {
  const started = Date.now();
  while (mine === visit.token) {
    let view = null;
    try {
      // The tablet follows its own visit with its own token (a tablet reads only its display's visits).
      view = await api(cfg, `/visits/${encodeURIComponent(visitId)}`, { token: await auth.idToken() });
    } catch (e) {
      view = null; // a blip: keep asking
    }
    if (mine !== visit.token) return;
    if (view && view.status === 'DONE') {
      status('done', view);
      return;
    }
    if (view && view.status === 'REJECTED') {
      status('rejected', { message: refusal(view) });
      return;
    }
    if (view && view.status === 'FAILED') {
      status('failed', { message: say('error.ours') });
      return;
    }
    // The engine has no instance yet (a cold start takes minutes): say so rather than "painting".
    if (view && view.status === 'PROCESSING') {
      status('processing', { text: say(view.warmingUp ? 'status.warming' : 'status.painting') });
    }
    if (Date.now() - started > GIVE_UP_MS) {
      status('failed', { message: say('error.slow') });
      return;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Why the photo was refused: the API sends the sentence in the visit's language. */
function refusal(view) {
  return view.message || say('error.retry');
}

// ------------------------------------------------------------------ wiring
function wire() {
  $('#signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = $('#signin-button');
    button.disabled = true;
    $('#signin-error').textContent = '';
    try {
      const claims = await auth.signIn($('#username').value.trim(), $('#password').value);
      if (!claims['custom:displayId']) {
        auth.signOut();
        throw new Error('This account is not a tablet (it has no display).');
      }
      $('#password').value = '';
      signedIn();
    } catch (e) {
      $('#signin-error').textContent = e.message;
    } finally {
      button.disabled = false;
    }
  });
  for (const b of document.querySelectorAll('.lang')) b.addEventListener('click', () => speak(b.dataset.language));
  $('#agree').addEventListener('click', () => show('theme'));
  $('#decline').addEventListener('click', () => show('declined'));
  const themes = $('#themes');
  for (const theme of THEMES) {
    themes.append(
      el(
        'button',
        {
          class: 'theme',
          type: 'button',
          'aria-pressed': 'false',
          dataset: { theme: theme.id },
          onclick: (event) => {
            visit.theme = theme.id;
            for (const b of themes.children) b.setAttribute('aria-pressed', String(b === event.currentTarget));
            $('#theme-next').disabled = false;
          },
        },
        el('span', { class: 'name', dataset: { i18n: `theme.${theme.id}.name` } }),
        el('span', { class: 'blurb', dataset: { i18n: `theme.${theme.id}.blurb` } }),
      ),
    );
  }
  $('#theme-next').addEventListener('click', startCamera);
  $('#shutter').addEventListener('click', takePhoto);
  $('#file').addEventListener('change', (event) => {
    const file = event.target.files && event.target.files[0];
    if (file) review(file);
  });
  $('#use-photo').addEventListener('click', send);
  for (const b of document.querySelectorAll('[data-action=reset]')) b.addEventListener('click', reset);
  for (const b of document.querySelectorAll('[data-action=retake]')) b.addEventListener('click', startCamera);
  $('#signout').addEventListener('click', () => {
    if (!window.confirm('Sign this tablet out? It will need its password again.')) return;
    auth.signOut();
    $('#display-chip').hidden = true;
    $('#signout').hidden = true;
    reset();
  });
  for (const kind of ['pointerdown', 'keydown']) {
    document.addEventListener(kind, () => armIdle(document.body.dataset.screen), { passive: true });
  }
}

async function main() {
  cfg = await loadConfig();
  auth = new CognitoAuth(cfg, 'tablet');
  wire();
  speak(DEFAULT_LANGUAGE);
  if (auth.signedIn && (await auth.idToken()) && auth.claims()['custom:displayId']) signedIn();
  else {
    auth.signOut();
    if (params.get('user')) $('#username').value = params.get('user');
    show('signin');
  }
}

main().catch((e) => {
  document.body.append(el('p', { class: 'error', text: `The tablet could not start: ${e.message}` }));
});
