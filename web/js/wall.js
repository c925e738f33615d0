// The display wall: one tile per display. Tiles change live through the AppSync subscription
// onDisplayUpdated (one per tile, filtered by displayId on the server) and every pollSeconds
// from GET /displays, in case the socket died without telling anyone. After FALLBACK_AFTER
// failed fetches in a row a tile shows the default image; the next good fetch brings it back.
import { $, api, clock, el, loadConfig, params, parseDisplays, viewUrl } from './common.js';
import { DEFAULT_LANGUAGE, known, t } from './i18n.js';
import { RealtimeClient } from './realtime.js';
import qrcode from '/vendor/qrcode-generator-2.0.4/qrcode.mjs';

const FALLBACK_AFTER = 5;
const DEFAULT_IMAGE = '/img/default.svg';
// No visit id: the wall is public. A tile's QR code carries its view token, which lets a phone
// view the portrait until viewExpiresAt and nothing more.
const FIELDS = 'displayId status imageUrl story title language theme reason viewToken viewExpiresAt updatedAt';
const SUBSCRIPTION = `subscription OnDisplayUpdated($displayId: ID) {
  onDisplayUpdated(displayId: $displayId) { ${FIELDS} }
}`;

const tiles = new Map(); // displayId -> {node, data, failures, checkedAt, source}
let cfg;

function qrSvg(text) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  return qr.createSvgTag({ cellSize: 4, margin: 2, scalable: true });
}

function makeTile(displayId) {
  const node = el(
    'article',
    { class: 'tile', dataset: { display: displayId, status: 'DEFAULT', fallback: 'false', failures: '0' } },
    el('img', { class: 'art', src: DEFAULT_IMAGE, alt: '' }),
    el('div', { class: 'badge', text: displayId, title: `Display ${displayId}` }),
    el('div', { class: 'times' }, el('div', { class: 'shown' }), el('div', { class: 'checked' })),
    el('div', { class: 'caption' }, el('h2', { class: 'title' }), el('p', { class: 'story' })),
    el('div', { class: 'qr', hidden: true }, el('div', { class: 'code' }), el('span', { class: 'scan', text: 'Scan to keep it' })),
  );
  const tile = { node, displayId, data: null, failures: 0, checkedAt: null, receivedAt: 0, source: '' };
  node.querySelector('.art').addEventListener('error', () => {
    // An image URL that no longer works (expired, deleted): show the default, fetch fresh URLs.
    if (node.querySelector('.art').getAttribute('src') === DEFAULT_IMAGE) return;
    node.querySelector('.art').src = DEFAULT_IMAGE;
    poll();
  });
  tiles.set(displayId, tile);
  return node;
}

function caption(tile, data) {
  const d = data || { status: 'DEFAULT' };
  if (d.status === 'DONE' && d.imageUrl) return [d.title || 'Your past life', d.story || ''];
  // The visit waits for an endpoint instance (a cold start takes minutes): in its own language.
  if (d.status === 'WARMING_UP') {
    const lang = known(d.language) || DEFAULT_LANGUAGE;
    return [t(lang, 'wall.warming.title'), t(lang, 'wall.warming.text')];
  }
  if (d.status === 'REJECTED') return ['Almost!', d.reason || 'Please look at the camera and try again.'];
  if (d.status === 'FAILED') return ['Please try again', 'Something went wrong on our side. Step up to the tablet once more.'];
  return ['Your past life awaits', `Step up to tablet ${tile.displayId} and meet who you once were.`];
}

function render(tile) {
  const { node } = tile;
  const fallback = tile.failures >= FALLBACK_AFTER;
  const d = fallback ? null : tile.data;
  const showsResult = Boolean(d && d.status === 'DONE' && d.imageUrl);
  const img = node.querySelector('.art');
  const src = showsResult ? d.imageUrl : DEFAULT_IMAGE;
  if (img.getAttribute('src') !== src) img.src = src;
  const [title, story] = caption(tile, d);
  node.querySelector('.title').textContent = title;
  node.querySelector('.story').textContent = story;
  // A portrait's title and story are in its visitor's language: lang makes the browser pick a
  // Hangul font for Korean and tells a screen reader which voice to use. So do the words of a
  // WARMING_UP tile (its visitor's language); the wall's other words are the page's.
  const warming = Boolean(d && d.status === 'WARMING_UP');
  const language = showsResult ? known(d.language) : warming ? known(d.language) || DEFAULT_LANGUAGE : null;
  const words = node.querySelector('.caption');
  if (language) words.lang = language;
  else words.removeAttribute('lang');
  node.dataset.language = language || '';
  const qr = node.querySelector('.qr');
  const viewable = showsResult && d.viewToken && Number(d.viewExpiresAt || 0) * 1000 > Date.now();
  const link = viewable ? viewUrl(cfg, d.viewToken) : '';
  if (qr.dataset.link !== link) {
    qr.dataset.link = link;
    qr.querySelector('.code').innerHTML = link ? qrSvg(link) : '';
  }
  qr.hidden = !link;
  const scan = qr.querySelector('.scan');
  scan.textContent = t(language || 'en', 'wall.scan');
  scan.lang = language || 'en';
  node.dataset.status = d ? d.status : 'DEFAULT';
  node.dataset.view = (d && d.viewToken) || '';
  node.dataset.fallback = String(fallback);
  node.dataset.failures = String(tile.failures);
  node.dataset.source = tile.source;
  node.dataset.updatedAt = (tile.data && tile.data.updatedAt) || '';
  node.querySelector('.shown').textContent = fallback
    ? 'no connection'
    : tile.data && tile.data.updatedAt
      ? `updated ${clock(tile.data.updatedAt)}`
      : '';
  node.querySelector('.checked').textContent = tile.checkedAt ? `checked ${clock(tile.checkedAt)}` : '';
}

/**
 * Take a display state from the subscription or the poll. A poll's snapshot never replaces what
 * the subscription delivered after the poll began, and an older state never replaces a newer one.
 */
function apply(data, source, snapshotAt = Date.now()) {
  const tile = tiles.get(String(data.displayId));
  if (!tile) return;
  const fresh = tile.failures >= FALLBACK_AFTER;
  tile.failures = 0;
  tile.checkedAt = new Date();
  const current = tile.data && tile.data.updatedAt;
  const stale =
    (source === 'poll' && tile.receivedAt && tile.receivedAt > snapshotAt) ||
    (current && data.updatedAt && data.updatedAt < current);
  // A poll signs image URLs afresh every time; keep the shown URL while the content is the same.
  const same =
    tile.data && tile.data.viewToken === data.viewToken && tile.data.status === data.status && current === data.updatedAt;
  if ((stale || same) && !fresh) {
    render(tile);
    return;
  }
  if (!stale) {
    tile.data = { ...data };
    tile.source = source;
    tile.receivedAt = Date.now();
  }
  render(tile);
}

let polling = false;
async function poll() {
  if (polling) return;
  polling = true;
  const status = $('#poll');
  const snapshotAt = Date.now();
  try {
    const body = await api(cfg, '/displays');
    const byId = new Map((body.displays || []).map((d) => [String(d.displayId), d]));
    for (const tile of tiles.values()) {
      apply(byId.get(tile.displayId) || { displayId: tile.displayId, status: 'DEFAULT', updatedAt: '' }, 'poll', snapshotAt);
    }
    status.dataset.state = 'ok';
    status.textContent = `Checked ${clock(new Date())} · every ${cfg.pollSeconds} s`;
  } catch (e) {
    for (const tile of tiles.values()) {
      tile.failures += 1;
      render(tile);
    }
    const worst = Math.max(...[...tiles.values()].map((t) => t.failures));
    status.dataset.state = 'failing';
    status.textContent = `Backend unreachable (${worst} in a row) · retrying every ${cfg.pollSeconds} s`;
  } finally {
    polling = false;
  }
}

function connectionLabel(state) {
  const labels = {
    connected: 'Live',
    connecting: 'Connecting…',
    reconnecting: 'Reconnecting…',
    error: 'Live updates refused',
    closed: 'Offline',
  };
  return labels[state] || state;
}

async function main() {
  cfg = await loadConfig();
  cfg.pollSeconds = Number(params.get('poll')) || cfg.pollSeconds || 10;
  $('#poll-seconds').textContent = cfg.pollSeconds;
  const displays = parseDisplays(params.get('displays') || cfg.displays || '1-8');
  const grid = $('#tiles');
  grid.dataset.count = String(Math.min(displays.length, 8));
  for (const id of displays) grid.append(makeTile(id));
  for (const tile of tiles.values()) render(tile);
  document.title = displays.length === 1 ? `Display ${displays[0]} · Past-Life Gallery` : document.title;

  const conn = $('#conn');
  const realtime = new RealtimeClient({
    graphqlUrl: cfg.graphqlUrl,
    realtimeUrl: cfg.realtimeUrl,
    auth: async () => ({ apiKey: cfg.apiKey }),
    onState: (state, detail) => {
      conn.dataset.state = state;
      conn.textContent = connectionLabel(state);
      if (detail) conn.title = detail;
      // Back online: catch up on anything the socket missed.
      if (state === 'connected' && detail === 'reconnected') poll();
    },
  });
  for (const id of displays) {
    realtime.subscribe(SUBSCRIPTION, { displayId: id }, (data) => {
      if (data.onDisplayUpdated) apply(data.onDisplayUpdated, 'subscription');
    });
  }
  realtime.connect();
  window.galleryWall = { realtime, tiles, poll }; // for operators' consoles and the browser tests
  await poll();
  setInterval(poll, cfg.pollSeconds * 1000);
}

main().catch((e) => {
  document.body.append(el('p', { class: 'error', text: `The wall could not start: ${e.message}` }));
});
