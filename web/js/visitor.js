// The visitor page, on a phone. Two links open it, each with its secret in the URL fragment
// (browsers never send a fragment to a server, so it stays out of access logs):
// - #view=<token>: the wall's QR code. Anyone in the room can scan it, so it only views the
//   portrait, until the token expires (GET /views/{token}); it offers no delete.
// - #owner=<visitId>.<secret>: the private link the tablet showed the visitor alone. It views
//   (GET /visits/{id}/owner) and deletes (DELETE /visits/{id}), both with
//   `Authorization: Owner <secret>`.
// Expired, deleted or unknown links get a friendly page.
// The page speaks the visit's language (chosen on the tablet, in the API's answer); until it knows
// it, or when the link no longer works, the phone's own.
import { $, ApiError, api, el, loadConfig } from './common.js';
import { browserLanguage, known, t, translate } from './i18n.js';

const SECTIONS = ['loading', 'portrait', 'pending', 'unfinished', 'privacy', 'deleted', 'gone', 'expired'];
let cfg;
let link = { mode: '' };
let view;
let language = browserLanguage();

function speak(lang) {
  language = lang;
  translate(lang, { retention: t(lang, 'days', { days: cfg.retentionDays || 7 }) });
}

function show(...names) {
  for (const s of SECTIONS) $(`#${s}`).hidden = !names.includes(s);
  document.body.dataset.state = names[0];
}

/** {mode: 'view', token} | {mode: 'owner', visitId, secret} | {mode: ''} from the fragment. */
function linkFromLocation() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get('view') || '';
  if (/^[A-Za-z0-9_-]{32}$/.test(token)) return { mode: 'view', token };
  const [visitId, secret] = (fragment.get('owner') || '').split('.');
  if (/^[0-9a-f]{32}$/.test(visitId || '') && /^[A-Za-z0-9_-]{16,64}$/.test(secret || '')) {
    return { mode: 'owner', visitId, secret };
  }
  return { mode: '' };
}

function request(method = 'GET') {
  if (link.mode === 'view') return api(cfg, `/views/${encodeURIComponent(link.token)}`);
  const path = `/visits/${encodeURIComponent(link.visitId)}`;
  const token = `Owner ${link.secret}`;
  return method === 'DELETE' ? api(cfg, path, { method, token }) : api(cfg, `${path}/owner`, { token });
}

async function load() {
  try {
    view = await request();
  } catch (e) {
    if (e instanceof ApiError && link.mode === 'view' && e.status === 404) {
      show('expired');
      return;
    }
    if (e instanceof ApiError && [400, 403, 404].includes(e.status)) {
      show('gone');
      return;
    }
    show('pending', 'privacy');
    setTimeout(load, 5000);
    return;
  }
  if (known(view.language) && view.language !== language) speak(view.language);
  if (view.status === 'DONE') {
    $('#title').textContent = view.title || t(language, 'v.title');
    $('#story').textContent = view.story || '';
    // The title and story came in the visit's language; lang picks the font and a reader's voice.
    $('#title').lang = language;
    $('#story').lang = language;
    $('#image').src = view.imageUrl;
    const audio = $('#audio');
    if (view.audioUrl && audio.getAttribute('src') !== view.audioUrl) audio.src = view.audioUrl;
    $('#listen').hidden = !view.audioUrl;
    show('portrait', 'privacy');
  } else if (view.status === 'REJECTED' || view.status === 'FAILED') {
    // The API sends the refusal's sentence in the visit's language.
    const message = view.message;
    $('#unfinished-text').textContent =
      view.status === 'REJECTED'
        ? t(language, 'v.rejected', { message: message || t(language, 'v.rejected.default') })
        : t(language, 'v.failed');
    show('unfinished', 'privacy');
  } else {
    show('pending', 'privacy');
    setTimeout(load, 2000);
  }
}

async function download() {
  const button = $('#download');
  button.disabled = true;
  try {
    const resp = await fetch(view.imageUrl);
    const blob = await resp.blob();
    const a = el('a', { href: URL.createObjectURL(blob), download: 'past-life-portrait.png' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  } catch {
    window.open(view.imageUrl, '_blank'); // the browser can still save it from there
  } finally {
    button.disabled = false;
  }
}

async function remove() {
  const button = $('#confirm-delete');
  button.disabled = true;
  $('#delete-error').textContent = '';
  try {
    await request('DELETE');
    $('#image').removeAttribute('src');
    $('#audio').removeAttribute('src');
    show('deleted');
  } catch (e) {
    $('#delete-error').textContent = t(language, 'v.delete.error', { error: e.message });
  } finally {
    button.disabled = false;
  }
}

async function main() {
  cfg = await loadConfig();
  speak(language);
  link = linkFromLocation();
  document.body.dataset.mode = link.mode || 'none';
  // Only the owner link can delete: a page opened from the wall has no delete button at all.
  $('#owner-actions').hidden = link.mode !== 'owner';
  $('#viewer-note').hidden = link.mode !== 'view';
  $('#download').addEventListener('click', download);
  $('#delete').addEventListener('click', () => {
    $('#confirm').hidden = false;
    $('#delete').hidden = true;
  });
  $('#cancel-delete').addEventListener('click', () => {
    $('#confirm').hidden = true;
    $('#delete').hidden = false;
  });
  $('#confirm-delete').addEventListener('click', remove);
  if (!link.mode) {
    show('gone');
    return;
  }
  await load();
}

main().catch((e) => {
  document.body.append(el('p', { class: 'error', text: `This page could not start: ${e.message}` }));
});
