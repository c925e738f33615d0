// Shared by the four pages: settings, Cognito sign-in, the REST API, small DOM helpers.
// The pages read every endpoint from /config.json: `gallery serve` answers it for the local
// stack, and on AWS it is a static file written from the stack's Outputs
// (`gallery serve --aws-stack NAME --write-config config.json`). No other code path differs.

export const THEMES = [
  { id: 'realistic', name: 'Realistic photo', blurb: 'A photograph from another century' },
  { id: 'painting', name: 'Oil painting', blurb: 'Painted by an old master' },
  { id: 'travel', name: 'Traveller', blurb: 'Far from home, long ago' },
  { id: 'animation', name: 'Animation', blurb: 'Drawn like a cartoon hero' },
];

let configPromise = null;

export function loadConfig() {
  if (!configPromise) {
    configPromise = fetch('/config.json', { cache: 'no-store' }).then((r) => {
      if (!r.ok) throw new Error(`config.json: HTTP ${r.status}`);
      return r.json();
    });
  }
  return configPromise;
}

export const params = new URLSearchParams(location.search);

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

/** "1-8", "3" or "1,3,5-6" -> ["1", ...] */
export function parseDisplays(spec) {
  const out = [];
  for (const part of String(spec || '').split(',')) {
    const m = part.trim().match(/^(\d+)(?:-(\d+))?$/);
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = Number(m[2] || m[1]);
    for (let d = lo; d <= hi && out.length < 64; d++) if (!out.includes(String(d))) out.push(String(d));
  }
  return out;
}

export function clock(date) {
  const d = date instanceof Date ? date : new Date(date);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

export function jwtClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(
      atob(part + '='.repeat((4 - (part.length % 4)) % 4))
        .split('')
        .map((c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'))
        .join(''),
    );
    return JSON.parse(json);
  } catch {
    return {};
  }
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || body.error)) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** The REST API (API Gateway on AWS, the local API on the local stack). */
export async function api(cfg, path, { method = 'GET', token, body } = {}) {
  const headers = {};
  if (token) headers.Authorization = token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const resp = await fetch(cfg.apiUrl.replace(/\/$/, '') + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  let data = null;
  try {
    data = await resp.json();
  } catch {
    data = null;
  }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

/** A GraphQL query or mutation over HTTP (AppSync), with a Cognito token or the API key. */
export async function graphql(cfg, query, variables, { token, apiKey } = {}) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = token;
  else if (apiKey) headers['x-api-key'] = apiKey;
  const resp = await fetch(cfg.graphqlUrl, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok || (data.errors && data.errors.length)) {
    const first = (data.errors && data.errors[0]) || {};
    throw new ApiError(resp.status, { error: first.errorType, message: first.message || `HTTP ${resp.status}` });
  }
  return data.data;
}

/**
 * Cognito user pool sign-in with USER_PASSWORD_AUTH: a plain fetch to the Cognito endpoint
 * (cognito-idp.REGION.amazonaws.com on AWS, moto's server on the local stack). Tokens are kept
 * in localStorage, and refreshed with the refresh token before they expire.
 */
export class CognitoAuth {
  constructor(cfg, storageKey) {
    this.cfg = cfg;
    this.key = `gallery.auth.${storageKey}`;
    this.endpoint = cfg.cognito.endpoint || `https://cognito-idp.${cfg.cognito.region}.amazonaws.com/`;
    try {
      this.session = JSON.parse(localStorage.getItem(this.key) || 'null');
    } catch {
      this.session = null;
    }
  }

  async call(target, body) {
    const resp = await fetch(this.endpoint, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': `AWSCognitoIdentityProviderService.${target}`,
      },
      body: JSON.stringify(body),
    });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      const type = String(data.__type || data.code || 'Error').split('#').pop();
      const err = new Error(
        type === 'NotAuthorizedException' || type === 'UserNotFoundException'
          ? 'Wrong user name or password.'
          : data.message || type,
      );
      err.type = type;
      throw err;
    }
    return data;
  }

  async signIn(username, password) {
    const data = await this.call('InitiateAuth', {
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: this.cfg.cognito.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    if (!data.AuthenticationResult) {
      throw new Error(`This user must finish setting up first (${data.ChallengeName}). Ask an administrator.`);
    }
    this.store(data.AuthenticationResult, username);
    return this.claims();
  }

  store(result, username) {
    const previous = this.session || {};
    this.session = {
      username: username || previous.username,
      idToken: result.IdToken,
      accessToken: result.AccessToken,
      refreshToken: result.RefreshToken || previous.refreshToken,
      expiresAt: Date.now() + (result.ExpiresIn || 3600) * 1000,
    };
    localStorage.setItem(this.key, JSON.stringify(this.session));
  }

  signOut() {
    this.session = null;
    localStorage.removeItem(this.key);
  }

  claims() {
    return this.session ? jwtClaims(this.session.idToken) : {};
  }

  get signedIn() {
    return Boolean(this.session && this.session.idToken);
  }

  /** A valid IdToken, refreshed when it has less than five minutes left; null when signed out. */
  async idToken() {
    if (!this.session) return null;
    if (Date.now() < this.session.expiresAt - 5 * 60 * 1000) return this.session.idToken;
    if (this.session.refreshToken) {
      try {
        const data = await this.call('InitiateAuth', {
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          ClientId: this.cfg.cognito.clientId,
          AuthParameters: { REFRESH_TOKEN: this.session.refreshToken },
        });
        this.store(data.AuthenticationResult);
        return this.session.idToken;
      } catch (e) {
        if (Date.now() < this.session.expiresAt) return this.session.idToken;
      }
    }
    this.signOut();
    return null;
  }
}

/**
 * The operators' pages' sign-in (the admin panel, the catalog review): the page's #signin form
 * (#username, #password, #signin-error), #signout, #who and #forbidden. Once a user of the
 * operators group is signed in, start(claims) runs; any other user sees #forbidden, because the
 * API would refuse them anyway (the Cognito authorizer admits tablets too). Returns signedOut,
 * for a page that finds its token gone.
 */
export function operatorSignIn(auth, start) {
  function signedOut() {
    auth.signOut();
    $('#forbidden').hidden = true;
    $('#signout').hidden = true;
    $('#who').textContent = '';
    $('#signin').hidden = false;
    document.body.dataset.signedIn = 'false';
  }

  async function enter() {
    const claims = auth.claims();
    $('#who').textContent = claims['cognito:username'] || '';
    $('#signout').hidden = false;
    $('#signin').hidden = true;
    if (!(claims['cognito:groups'] || []).includes('operators')) {
      $('#forbidden').hidden = false;
      return;
    }
    document.body.dataset.signedIn = 'true';
    await start(claims);
  }

  $('#signin').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('#signin-error').textContent = '';
    try {
      await auth.signIn($('#username').value.trim(), $('#password').value);
      $('#password').value = '';
    } catch (e) {
      $('#signin-error').textContent = e.message;
      return;
    }
    await enter();
  });
  $('#signout').addEventListener('click', () => {
    signedOut();
    location.reload(); // drops every item and URL of the previous operator from the page
  });
  const ready = (async () => {
    if (auth.signedIn && (await auth.idToken())) await enter();
    else signedOut();
  })();
  return { signedOut, ready };
}

/** The operators' pages' #toast: `text` for a few seconds (a newer one replaces it). */
export function toast(text, ms = 4000) {
  const t = $('#toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), ms);
}

/**
 * The visitor page's two links. Both put their secret in the URL fragment, which browsers never
 * send to a server, so it stays out of access logs. The wall's link only views, until its token
 * expires; the owner link (shown on the tablet, to the visitor alone) also deletes.
 */
export function viewUrl(cfg, viewToken) {
  const template = cfg.visitorUrl || '{origin}/v/';
  return `${template.replace('{origin}', location.origin)}#view=${encodeURIComponent(viewToken)}`;
}

export function ownerUrl(cfg, visitId, secret) {
  const template = cfg.visitorUrl || '{origin}/v/';
  return `${template.replace('{origin}', location.origin)}#owner=${encodeURIComponent(visitId)}.${encodeURIComponent(secret)}`;
}

export function executionUrl(cfg, arn) {
  const region = (arn.split(':')[3] || cfg.region || '').trim();
  // ARNs hold only URL-safe characters and colons, which the console's URL wants as they are.
  return (cfg.executionUrl || '').replaceAll('{region}', region).replaceAll('{arn}', arn);
}
