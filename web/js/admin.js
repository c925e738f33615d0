// The operators' panel: per display and for all, reset to the default image (AppSync resetDisplay,
// operators group) or force a refresh (POST /displays/{id}/refresh re-publishes the stored state
// with a fresh image URL); recent visits (GET /visits) with status, error and execution link.
import {
  $,
  CognitoAuth,
  api,
  clock,
  el,
  executionUrl,
  graphql,
  loadConfig,
  operatorSignIn,
  params,
  parseDisplays,
  toast,
} from './common.js';
import { RealtimeClient } from './realtime.js';

const FIELDS = 'displayId status imageUrl story title theme reason viewToken viewExpiresAt updatedAt';
const RESET = `mutation ResetDisplay($displayId: ID!) { resetDisplay(displayId: $displayId) { ${FIELDS} } }`;
const SUBSCRIPTION = `subscription OnDisplayUpdated { onDisplayUpdated { ${FIELDS} } }`;
const DEFAULT_IMAGE = '/img/default.svg';

let cfg;
let auth;
let session; // operatorSignIn: sign-in, the operators group, sign-out
let displays = [];
const state = new Map();

function card(id) {
  const d = state.get(id) || { status: 'DEFAULT' };
  const img = d.status === 'DONE' && d.imageUrl ? d.imageUrl : DEFAULT_IMAGE;
  return el(
    'div',
    { class: 'dcard', dataset: { display: id, status: d.status } },
    el('img', { class: 'thumb', src: img, alt: `Display ${id}` }),
    el(
      'div',
      { class: 'meta' },
      el('b', { text: `Display ${id}` }),
      ' ',
      el('span', { class: 'pill', dataset: { status: d.status }, text: d.status }),
      el('div', { class: 'muted', text: d.updatedAt ? `since ${clock(d.updatedAt)}` : 'never used' }),
    ),
    el(
      'div',
      { class: 'buttons' },
      el('button', { class: 'btn small', dataset: { action: 'refresh' }, onclick: () => refresh([id]), text: 'Refresh' }),
      el('button', { class: 'btn small danger', dataset: { action: 'reset' }, onclick: () => reset([id]), text: 'Reset' }),
    ),
  );
}

function renderDisplays() {
  $('#displays').replaceChildren(...displays.map(card));
}

async function loadDisplays() {
  const body = await api(cfg, '/displays');
  for (const d of body.displays || []) state.set(String(d.displayId), d);
  for (const id of displays) if (!(body.displays || []).some((d) => String(d.displayId) === id)) state.delete(id);
  renderDisplays();
}

async function reset(ids) {
  const token = await auth.idToken();
  if (!token) return signedOut();
  try {
    for (const id of ids) {
      const data = await graphql(cfg, RESET, { displayId: id }, { token });
      if (data.resetDisplay) state.set(id, data.resetDisplay);
    }
    renderDisplays();
    toast(ids.length > 1 ? 'Every display shows the default image.' : `Display ${ids[0]} shows the default image.`);
  } catch (e) {
    toast(`Reset failed: ${e.message}`);
  }
}

async function refresh(ids) {
  const token = await auth.idToken();
  if (!token) return signedOut();
  try {
    for (const id of ids) {
      const body = await api(cfg, `/displays/${encodeURIComponent(id)}/refresh`, { method: 'POST', token });
      if (body.display) state.set(id, body.display);
    }
    renderDisplays();
    toast(ids.length > 1 ? 'Every display was sent its picture again.' : `Display ${ids[0]} was sent its picture again.`);
  } catch (e) {
    toast(`Refresh failed: ${e.message}`);
  }
}

function duration(v) {
  if (!v.createdAt || !v.finishedAt) {
    const t = v.timings || {};
    const ms = ['cropMs', 'portraitMs', 'swapMs', 'restoreMs'].reduce((a, k) => a + (t[k] || 0), 0);
    return ms ? `${(ms / 1000).toFixed(1)} s` : '';
  }
  const seconds = (new Date(v.finishedAt) - new Date(v.createdAt)) / 1000;
  return seconds >= 0 && seconds < 3600 ? `${seconds.toFixed(1)} s` : '';
}

async function loadVisits() {
  const token = await auth.idToken();
  if (!token) return signedOut();
  const body = await api(cfg, `/visits?displays=${encodeURIComponent(displays.join(','))}&limit=50`, { token });
  const rows = (body.visits || []).map((v) =>
    el(
      'tr',
      { dataset: { visit: v.visitId, status: v.status } },
      el('td', { text: clock(v.createdAt) }),
      el('td', { text: v.displayId }),
      el('td', { text: v.theme || '' }),
      el('td', {}, el('span', { class: 'pill', dataset: { status: v.status }, text: v.status })),
      el('td', { class: 'why', text: [v.reason || v.error, v.message || v.cause].filter(Boolean).join(': ') }),
      el('td', { text: duration(v) }),
      el(
        'td',
        {},
        // No visitor page link: only the visitor's private link opens it with the right to delete.
        v.executionArn ? el('a', { class: 'execution', href: executionUrl(cfg, v.executionArn), target: '_blank', text: 'execution' }) : '',
      ),
    ),
  );
  $('#visits').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: '7', class: 'muted', text: 'No visits yet.' }))]));
  $('#visits-checked').textContent = `checked ${clock(new Date())}`;
}

/** The session has expired: back to the sign-in form, with nothing of the console showing. */
function signedOut() {
  $('#console').hidden = true;
  $('#conn').hidden = true;
  session.signedOut();
}

/** An operator is signed in (operatorSignIn checked the group). */
async function start() {
  $('#console').hidden = false;
  renderDisplays();
  await Promise.allSettled([loadDisplays(), loadVisits()]);
  const conn = $('#conn');
  conn.hidden = false;
  const realtime = new RealtimeClient({
    graphqlUrl: cfg.graphqlUrl,
    realtimeUrl: cfg.realtimeUrl,
    auth: async () => ({ token: await auth.idToken() }), // the operators' own Cognito user
    onState: (s) => {
      conn.dataset.state = s;
      conn.textContent = s === 'connected' ? 'Live' : s === 'closed' ? 'Offline' : 'Reconnecting…';
    },
  });
  realtime.subscribe(SUBSCRIPTION, {}, (data) => {
    const d = data.onDisplayUpdated;
    if (!d) return;
    state.set(String(d.displayId), d);
    renderDisplays();
    loadVisits().catch(() => {});
  });
  realtime.connect();
  setInterval(() => loadVisits().catch(() => {}), 10000);
}

async function main() {
  cfg = await loadConfig();
  auth = new CognitoAuth(cfg, 'admin');
  displays = parseDisplays(params.get('displays') || cfg.displays || '1-8');
  $('#reset-all').addEventListener('click', () => reset(displays));
  $('#refresh-all').addEventListener('click', () => refresh(displays));
  $('#reload-visits').addEventListener('click', () => loadVisits().catch((e) => toast(e.message)));
  session = operatorSignIn(auth, start);
  await session.ready;
}

main().catch((e) => {
  document.body.append(el('p', { class: 'error', text: `The admin panel could not start: ${e.message}` }));
});
