// A small client for the AWS AppSync real-time WebSocket protocol (GraphQL subscriptions), as
// AWS documents it: the same code runs against AppSync and against the local stack's endpoint.
//
//   new WebSocket(realtimeUrl, ['graphql-ws', 'header-' + base64url(JSON header)])
//   -> connection_init, <- connection_ack {connectionTimeoutMs}, <- ka ...
//   -> start {id, payload: {data: JSON string {query, variables}, extensions: {authorization}}}
//   <- start_ack | error, <- data ..., -> stop, <- complete
//
// The header is {host: <GraphQL endpoint host>, x-api-key} for the API key, or
// {host, Authorization: <Cognito JWT>} for a user pool. The client reconnects by itself, with
// a jittered exponential backoff, and starts its subscriptions again after every reconnect.

function base64url(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function amzDate() {
  return new Date().toISOString().replace(/[:-]|\.\d{3}/g, '');
}

export class RealtimeClient {
  /**
   * @param {object} opts
   * @param {string} opts.graphqlUrl  the GraphQL endpoint (its host goes into the header)
   * @param {string} opts.realtimeUrl the real-time endpoint (wss://...appsync-realtime-api.../graphql)
   * @param {() => Promise<object>} opts.auth resolves to {apiKey} or {token}
   * @param {(state: string, detail?: string) => void} [opts.onState] connecting | connected | reconnecting | error | closed
   */
  constructor({ graphqlUrl, realtimeUrl, auth, onState = () => {}, maxBackoffMs = 5000 }) {
    this.host = new URL(graphqlUrl).host;
    this.realtimeUrl = realtimeUrl;
    this.auth = auth;
    this.onState = onState;
    this.maxBackoffMs = maxBackoffMs;
    this.subs = new Map(); // id -> {query, variables, onData, onError, acked}
    this.ws = null;
    this.attempt = 0;
    this.closed = false;
    this.state = 'closed';
    this.kaTimer = null;
    this.retryTimer = null;
    this.timeoutMs = 300000;
  }

  async header() {
    const a = await this.auth();
    if (a.apiKey) return { host: this.host, 'x-amz-date': amzDate(), 'x-api-key': a.apiKey };
    return { host: this.host, Authorization: a.token };
  }

  setState(state, detail) {
    if (this.state === state && !detail) return;
    this.state = state;
    this.onState(state, detail);
  }

  /** Register a subscription; it is started now if connected, and after every reconnect. */
  subscribe(query, variables, onData, onError = () => {}) {
    const id = crypto.randomUUID();
    this.subs.set(id, { query, variables, onData, onError, acked: false });
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.ready) this.start(id);
    return id;
  }

  unsubscribe(id) {
    if (this.subs.delete(id) && this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ type: 'stop', id }));
    }
  }

  connect() {
    this.closed = false;
    this.open();
    return this;
  }

  close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.kaTimer);
    if (this.ws) this.ws.close(1000);
    this.setState('closed');
  }

  async open() {
    clearTimeout(this.retryTimer);
    this.ready = false;
    this.setState(this.attempt ? 'reconnecting' : 'connecting');
    let ws;
    try {
      const header = await this.header();
      ws = new WebSocket(this.realtimeUrl, ['graphql-ws', `header-${base64url(JSON.stringify(header))}`]);
    } catch (e) {
      this.retry(String(e));
      return;
    }
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init' }));
    ws.onmessage = (event) => this.message(ws, event.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      clearTimeout(this.kaTimer);
      this.ws = null;
      this.ready = false;
      for (const sub of this.subs.values()) sub.acked = false;
      if (!this.closed) this.retry('connection closed');
    };
    ws.onerror = () => {}; // onclose follows
  }

  retry(detail) {
    this.attempt += 1;
    const ceiling = Math.min(this.maxBackoffMs, 250 * 2 ** Math.min(this.attempt, 8));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.setState('reconnecting', detail);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  // No "ka" within connectionTimeoutMs: the socket died silently; drop it and reconnect.
  armKeepAlive(ws) {
    clearTimeout(this.kaTimer);
    this.kaTimer = setTimeout(() => {
      if (this.ws === ws) ws.close(4000, 'keep-alive timeout');
    }, this.timeoutMs);
  }

  async start(id) {
    const sub = this.subs.get(id);
    if (!sub || !this.ws) return;
    const authorization = await this.header();
    this.ws.send(
      JSON.stringify({
        id,
        type: 'start',
        payload: { data: JSON.stringify({ query: sub.query, variables: sub.variables || {} }), extensions: { authorization } },
      }),
    );
  }

  message(ws, raw) {
    if (this.ws !== ws || typeof raw !== 'string') return;
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    const sub = msg.id ? this.subs.get(msg.id) : null;
    switch (msg.type) {
      case 'connection_ack':
        this.timeoutMs = (msg.payload && msg.payload.connectionTimeoutMs) || 300000;
        this.ready = true;
        this.armKeepAlive(ws);
        for (const id of this.subs.keys()) this.start(id);
        if (!this.subs.size) this.connected();
        break;
      case 'ka':
        this.armKeepAlive(ws);
        break;
      case 'start_ack':
        if (sub) sub.acked = true;
        if ([...this.subs.values()].every((s) => s.acked)) this.connected();
        break;
      case 'data':
        if (sub && msg.payload && msg.payload.data) sub.onData(msg.payload.data);
        break;
      case 'error':
        if (sub) {
          sub.onError(msg.payload && msg.payload.errors);
          // A subscription the server refused (an expired API key, say) is not live.
          if (!sub.acked) this.setState('error', JSON.stringify((msg.payload && msg.payload.errors) || []));
        }
        break;
      case 'connection_error':
        this.setState('reconnecting', JSON.stringify(msg.payload || {}));
        ws.close();
        break;
      default:
        break;
    }
  }

  connected() {
    const wasReconnect = this.attempt > 0;
    this.attempt = 0;
    this.setState('connected', wasReconnect ? 'reconnected' : undefined);
  }
}
