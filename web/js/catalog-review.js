// The operators' catalog review (/admin/catalog): a grid of one theme's portraits (GET
// /admin/catalog?theme=T, with presigned image and audio URLs and every theme's counts),
// filters, and decisions (POST /admin/catalog/decisions) from the keyboard or in bulk.
// Only PENDING_REVIEW, APPROVED and REJECTED items can be decided; the server says so too.
import { $, ApiError, CognitoAuth, THEMES, api, el, loadConfig, operatorSignIn, params, toast } from './common.js';

const REVIEWABLE = ['PENDING_REVIEW', 'APPROVED', 'REJECTED'];
const CHUNK = 200; // catalog_review.MAX_IDS: the most one request decides
const FILTERS = [
  // select id, what it reads from an item, what "all" says
  ['#f-status', (i) => i.status, 'All statuses'],
  ['#f-reason', reasonOf, 'Any reason'],
  ['#f-gender', (i) => i.gender || 'unknown', 'Any gender'],
  ['#f-age', (i) => i.ageBand || 'unknown', 'Any age band'],
  ['#f-skin', (i) => i.skinTone || 'unknown', 'Any skin tone'],
];

let cfg;
let auth;
let session;
let theme = THEMES.some((t) => t.id === params.get('theme')) ? params.get('theme') : THEMES[0].id;
let items = [];
let counts = {};
const selected = new Set();

function reasonOf(item) {
  return item.reviewReason || item.filterReason || item.error || '';
}

async function token() {
  const t = await auth.idToken();
  if (!t) session.signedOut();
  return t;
}

// ------------------------------------------------------------------ loading

async function load() {
  const t = await token();
  if (!t) return;
  const body = await api(cfg, `/admin/catalog?theme=${encodeURIComponent(theme)}`, { token: t });
  items = body.items || [];
  counts = body.counts || {};
  const known = new Set(items.map((i) => i.portraitId));
  for (const id of [...selected]) if (!known.has(id)) selected.delete(id);
  renderTabs();
  renderFilters();
  renderCounts();
  renderGrid();
}

function renderTabs() {
  $('#themes').replaceChildren(
    ...THEMES.map((t) => {
      const pending = counts[t.id]?.status?.PENDING_REVIEW || 0;
      return el(
        'button',
        {
          class: 'review-tab',
          type: 'button',
          role: 'tab',
          'aria-selected': String(t.id === theme),
          dataset: { theme: t.id },
          onclick: () => switchTheme(t.id),
        },
        t.name,
        pending ? el('span', { class: 'badge', title: 'waiting for review', text: String(pending) }) : '',
      );
    }),
  );
}

function switchTheme(id) {
  if (id === theme) return;
  theme = id;
  selected.clear();
  const url = new URL(location.href);
  url.searchParams.set('theme', id);
  history.replaceState(null, '', url);
  load().catch((e) => toast(e.message));
}

function renderFilters() {
  for (const [selector, read, all] of FILTERS) {
    const select = $(selector);
    const current = select.value || (selector === '#f-status' ? params.get('status') || '' : '');
    const values = new Map();
    if (selector === '#f-status') {
      for (const [s, n] of Object.entries(counts[theme]?.status || {})) values.set(s, n);
    } else {
      for (const item of items) {
        const v = read(item);
        if (v) values.set(v, (values.get(v) || 0) + 1);
      }
    }
    const options = [el('option', { value: '', text: all })];
    for (const [v, n] of [...values].sort((a, b) => (selector === '#f-status' ? 0 : String(a[0]).localeCompare(b[0])))) {
      options.push(el('option', { value: v, text: `${v} (${n})` }));
    }
    if (current && !values.has(current)) options.push(el('option', { value: current, text: `${current} (0)` }));
    select.replaceChildren(...options);
    select.value = current;
  }
}

function renderCounts() {
  const c = counts[theme] || { status: {}, approved: {} };
  $('#counts').replaceChildren(
    el('span', { class: 'count', dataset: { count: 'total' } }, el('b', { text: String(c.total || 0) }), ' portraits'),
    ...Object.entries(c.status || {}).map(([s, n]) =>
      el(
        'span',
        { class: 'count', dataset: { count: s } },
        el('b', { text: String(n) }),
        ' ',
        el('span', { class: 'pill', dataset: { status: s }, text: s }),
      ),
    ),
  );
  const names = { gender: 'Gender', ageBand: 'Age band', skinTone: 'Skin tone' };
  $('#coverage').replaceChildren(
    el('span', { text: 'Approved, by what visitors are matched on: ' }),
    ...Object.entries(c.approved || {}).map(([field, values]) =>
      el(
        'span',
        { class: 'coverage', dataset: { field } },
        `${names[field] || field}: `,
        Object.keys(values).length ? Object.entries(values).map(([v, n]) => `${v} ${n}`).join(' · ') : 'none',
      ),
    ),
  );
}

// ------------------------------------------------------------------ the grid

function shown() {
  const wanted = FILTERS.map(([selector, read]) => [read, $(selector).value]);
  return items.filter((i) => wanted.every(([read, v]) => !v || read(i) === v));
}

/** The shown items still waiting for review: "approve all shown" never overturns a rejection
 * (an operator's or the automatic review's); select those one by one to approve them. */
function waiting() {
  return shown().filter((i) => i.status === 'PENDING_REVIEW');
}

function audio(url, language, label) {
  return url ? el('label', { class: 'audio', lang: language }, label, el('audio', { controls: true, preload: 'none', src: url })) : '';
}

function card(item) {
  const id = item.portraitId;
  const reviewable = REVIEWABLE.includes(item.status);
  const reason = reasonOf(item);
  return el(
    'article',
    {
      class: 'review-card',
      role: 'listitem',
      tabindex: '0',
      'aria-label': `${item.titleEn || item.titleKo || id}, ${item.status}`,
      dataset: { portrait: id, status: item.status, selected: String(selected.has(id)) },
    },
    el(
      'div',
      { class: 'art' },
      item.imageUrl
        ? el('img', { src: item.imageUrl, alt: item.titleEn || id, loading: 'lazy' })
        : el('div', { class: 'no-image', text: 'No image' }),
    ),
    el(
      'div',
      { class: 'head' },
      el('input', {
        type: 'checkbox',
        class: 'select',
        'aria-label': `Select ${id}`,
        checked: selected.has(id),
        disabled: !reviewable,
        tabindex: '-1',
        onchange: (e) => toggle(id, e.target.checked),
      }),
      el('span', { class: 'pill', dataset: { status: item.status }, text: item.status }),
      reason ? el('span', { class: 'reason', text: reason }) : '',
    ),
    el(
      'div',
      { class: 'facts muted' },
      [item.gender, item.ageBand, item.skinTone, item.country, item.era, item.occupation].filter(Boolean).join(' · '),
    ),
    el('h3', { class: 'title', lang: 'ko', text: item.titleKo || '' }),
    el('p', { class: 'story', lang: 'ko', text: item.storyKo || '' }),
    el('h3', { class: 'title', lang: 'en', text: item.titleEn || '' }),
    el('p', { class: 'story', lang: 'en', text: item.storyEn || '' }),
    audio(item.audioKoUrl, 'ko', '한국어'),
    audio(item.audioEnUrl, 'en', 'English'),
    item.prompt ? el('details', { class: 'prompt' }, el('summary', { text: 'Prompt' }), el('p', { text: item.prompt })) : '',
    el(
      'div',
      { class: 'meta muted' },
      el('code', { text: id }),
      item.reviewedBy ? ` · ${item.reviewedBy} ${String(item.reviewedAt || '').slice(0, 16).replace('T', ' ')}` : '',
    ),
    el(
      'div',
      { class: 'buttons' },
      ...Object.keys(DECISION_BUTTONS).map((decision) => decisionButton(item, reviewable, decision)),
    ),
  );
}

// A card's buttons: what each decides, its data-action, label and look.
const DECISION_BUTTONS = {
  APPROVED: { action: 'approve', text: 'Approve', class: 'btn small' },
  REJECTED: { action: 'reject', text: 'Reject', class: 'btn small danger' },
};

function decisionButton(item, reviewable, decision) {
  const { action, text, class: cls } = DECISION_BUTTONS[decision];
  const id = item.portraitId;
  return el('button', {
    class: cls,
    type: 'button',
    tabindex: '-1',
    disabled: !reviewable || item.status === decision,
    dataset: { action },
    onclick: () => decide([id], decision, id),
    text,
  });
}

function renderGrid(focusId) {
  const list = shown();
  const cards = list.map(card);
  $('#grid').replaceChildren(...cards);
  $('#shown').textContent = `${list.length} of ${items.length} shown`;
  renderSelection();
  if (focusId) {
    const target = $(`.review-card[data-portrait="${CSS.escape(focusId)}"]`) || cards[cards.length - 1];
    if (target) target.focus();
  }
}

function toggle(id, on) {
  const item = items.find((i) => i.portraitId === id);
  if (!item || !REVIEWABLE.includes(item.status)) return;
  if (on ?? !selected.has(id)) selected.add(id);
  else selected.delete(id);
  const node = $(`.review-card[data-portrait="${CSS.escape(id)}"]`);
  if (node) {
    node.dataset.selected = String(selected.has(id));
    node.querySelector('.select').checked = selected.has(id);
  }
  renderSelection();
}

function renderSelection() {
  $('#selected').textContent = `${selected.size} selected`;
  $('#approve-selected').disabled = $('#reject-selected').disabled = selected.size === 0;
  const pending = waiting().length;
  $('#approve-shown').textContent = `Approve all shown (${pending} pending)`;
  $('#approve-shown').disabled = pending === 0;
}

// ------------------------------------------------------------------ decisions

/** Decide `ids`, then show the new items and counts; focusAfter: the card the focus was on. */
async function decide(ids, decision, focusAfter) {
  const reason = $('#reject-reason').value.trim();
  if (decision === 'REJECTED' && !reason) {
    toast('Write a reason for the rejection first.');
    $('#reject-reason').focus();
    return;
  }
  const t = await token();
  if (!t) return;
  // The focus moves on to the card after this one, as an operator works through the grid.
  const list = shown().map((i) => i.portraitId);
  const next = focusAfter ? list[list.indexOf(focusAfter) + 1] || focusAfter : null;
  let done = 0;
  const refused = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const body = { theme, portraitIds: ids.slice(i, i + CHUNK), decision };
    if (decision === 'REJECTED') body.reason = reason;
    let answer;
    try {
      answer = await api(cfg, '/admin/catalog/decisions', { method: 'POST', token: t, body });
    } catch (e) {
      // 409: some were not decided (FILTERED, FAILED, gone); the rest were, and are in the body.
      if (!(e instanceof ApiError) || !e.body || !e.body.decided) {
        toast(`Not saved: ${e.message}`);
        break;
      }
      answer = e.body;
    }
    for (const d of answer.decided || []) {
      const at = items.findIndex((x) => x.portraitId === d.portraitId);
      // Keep the presigned URLs this page already has; take every stored field from the answer.
      if (at >= 0) items[at] = { ...d, imageUrl: items[at].imageUrl, audioKoUrl: items[at].audioKoUrl, audioEnUrl: items[at].audioEnUrl };
      selected.delete(d.portraitId);
    }
    done += (answer.decided || []).length;
    refused.push(...(answer.refused || []));
    if (answer.counts) counts = answer.counts;
  }
  renderTabs();
  renderFilters();
  renderCounts();
  renderGrid(next);
  const verb = decision === 'APPROVED' ? 'Approved' : 'Rejected';
  toast(refused.length ? `${verb} ${done}; not decided: ${refused.map((r) => r.message).join(' ')}` : `${verb} ${done}.`);
}

// ------------------------------------------------------------------ the keyboard

function columns(cards) {
  if (!cards.length) return 1;
  const top = cards[0].offsetTop;
  const n = cards.findIndex((c) => c.offsetTop !== top);
  return n === -1 ? cards.length : n;
}

function onKey(event) {
  const cardNode = event.target.closest && event.target.closest('.review-card');
  if (!cardNode || event.target.matches('input, select, textarea, summary, audio') || event.altKey || event.ctrlKey || event.metaKey) return;
  const id = cardNode.dataset.portrait;
  const cards = [...document.querySelectorAll('.review-card')];
  const at = cards.indexOf(cardNode);
  const move = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns(cards), ArrowUp: -columns(cards) }[event.key];
  if (move) {
    event.preventDefault();
    const target = cards[Math.max(0, Math.min(cards.length - 1, at + move))];
    target.focus();
    target.scrollIntoView({ block: 'nearest' });
    return;
  }
  const item = items.find((i) => i.portraitId === id);
  const key = event.key.toLowerCase();
  if (key === 'a' || key === 'r') {
    event.preventDefault();
    if (!REVIEWABLE.includes(item.status)) {
      toast(`${id} is ${item.status}: it has no usable portrait, so it cannot be approved or rejected.`);
      return;
    }
    decide([id], key === 'a' ? 'APPROVED' : 'REJECTED', id).catch((e) => toast(e.message));
  } else if (key === 'x' || key === ' ') {
    event.preventDefault();
    toggle(id);
  }
}

// ------------------------------------------------------------------ start

async function start() {
  $('#review').hidden = false;
  await load().catch((e) => toast(`Could not load the catalog: ${e.message}`));
}

async function main() {
  cfg = await loadConfig();
  auth = new CognitoAuth(cfg, 'admin'); // the same session as the operators' panel
  for (const [selector] of FILTERS) $(selector).addEventListener('change', () => renderGrid());
  $('#grid').addEventListener('keydown', onKey);
  $('#reload').addEventListener('click', () => load().catch((e) => toast(e.message)));
  $('#approve-selected').addEventListener('click', () => decide([...selected], 'APPROVED'));
  $('#reject-selected').addEventListener('click', () => decide([...selected], 'REJECTED'));
  $('#select-shown').addEventListener('click', () => {
    for (const i of shown()) toggle(i.portraitId, true);
  });
  $('#approve-shown').addEventListener('click', () => {
    const ids = waiting().map((i) => i.portraitId);
    if (ids.length) decide(ids, 'APPROVED');
  });
  session = operatorSignIn(auth, start);
  await session.ready;
}

main().catch((e) => {
  document.body.append(el('p', { class: 'error', text: `The catalog review could not start: ${e.message}` }));
});
