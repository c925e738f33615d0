// The visitor's page, opened from the wall's QR code on a phone: the portrait, its story, a
// download, and "delete my photos now" (DELETE /visits/{id}), which removes every object and
// item of the visit. Expired or deleted visits get a friendly page.
import { $, ApiError, api, el, loadConfig } from './common.js';

const SECTIONS = ['loading', 'portrait', 'pending', 'unfinished', 'privacy', 'deleted', 'gone'];
let cfg;
let visitId;
let view;

function show(...names) {
  for (const s of SECTIONS) $(`#${s}`).hidden = !names.includes(s);
  document.body.dataset.state = names[0];
}

function idFromLocation() {
  const fromPath = location.pathname.replace(/\/+$/, '').split('/').pop();
  const q = new URLSearchParams(location.search).get('id') || location.hash.slice(1);
  return (fromPath && fromPath !== 'v' && fromPath !== 'index.html' ? fromPath : q) || '';
}

async function load() {
  try {
    view = await api(cfg, `/visits/${encodeURIComponent(visitId)}`);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 400)) {
      show('gone');
      return;
    }
    show('pending', 'privacy');
    setTimeout(load, 5000);
    return;
  }
  if (view.status === 'DONE') {
    $('#title').textContent = view.title || 'Your past life';
    $('#story').textContent = view.story || '';
    $('#image').src = view.imageUrl;
    show('portrait', 'privacy');
  } else if (view.status === 'REJECTED' || view.status === 'FAILED') {
    $('#unfinished-text').textContent =
      view.status === 'REJECTED'
        ? `${view.message || 'The photo could not be used.'} You can try again at the tablet.`
        : 'Something went wrong on our side. You can try again at the tablet.';
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
    const a = el('a', { href: URL.createObjectURL(blob), download: `past-life-${visitId.slice(0, 8)}.png` });
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
    await api(cfg, `/visits/${encodeURIComponent(visitId)}`, { method: 'DELETE' });
    $('#image').removeAttribute('src');
    show('deleted');
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) show('deleted');
    else $('#delete-error').textContent = `That did not work (${e.message}). Please try again.`;
  } finally {
    button.disabled = false;
  }
}

async function main() {
  cfg = await loadConfig();
  $('#retention').textContent = `${cfg.retentionDays || 7} days`;
  visitId = idFromLocation();
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
  if (!/^[0-9a-f]{32}$/.test(visitId)) {
    show('gone');
    return;
  }
  await load();
}

main().catch((e) => {
  document.body.append(el('p', { class: 'error', text: `This page could not start: ${e.message}` }));
});
