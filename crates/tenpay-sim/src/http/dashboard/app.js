// tenpay-sim dashboard: polls /_sim/snapshot and renders it; buttons call the control API.
// Plain DOM, no build step. Every value from the simulator is set as text, never as HTML.
'use strict';
(function () {
  // The control token comes in the fragment (#token=…), which no server sees; it is kept for
  // this tab only and removed from the address bar and the history entry at once.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('token')) {
    sessionStorage.setItem('tenpay-sim-token', fragment.get('token'));
    history.replaceState(null, '', location.pathname + location.search);
  }
  const token = sessionStorage.getItem('tenpay-sim-token') || '';
  const open = new Set(); // <details> keys the user opened, kept across renders
  let last = '';
  let snapshot = null;

  function headers(extra) {
    const h = Object.assign({}, extra || {});
    if (token) h['Authorization'] = 'Bearer ' + token;
    return h;
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  function toast(msg) {
    const t = document.getElementById('toast');
    t.textContent = msg;
    t.classList.add('show');
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => t.classList.remove('show'), 3500);
  }

  // A QR image; with a token it is fetched with the Authorization header (an <img> cannot
  // send one, and the token stays out of every URL).
  function qr(alt, url) {
    if (!token) return el('img', { alt, src: url });
    const img = el('img', { alt });
    fetch(url, { headers: headers(), cache: 'no-store' })
      .then((r) => (r.ok ? r.blob() : null))
      .then((b) => {
        if (!b) return;
        img.onload = () => URL.revokeObjectURL(img.src);
        img.src = URL.createObjectURL(b);
      })
      .catch(() => {});
    return img;
  }

  async function act(method, path, body) {
    try {
      const r = await fetch('/_sim/' + path, {
        method,
        // Control POSTs are JSON, always: the simulator refuses any other type.
        headers: headers({ 'Content-Type': 'application/json' }),
        body: JSON.stringify(body || {}),
      });
      const j = await r.json().catch(() => ({}));
      if (!r.ok) toast(j.error || ('HTTP ' + r.status));
      poll();
    } catch (e) {
      toast(String(e));
    }
  }

  const q = (mch) => '?mch_id=' + encodeURIComponent(mch);
  const enc = encodeURIComponent;
  const yuan = (fen) => (fen / 100).toFixed(2);

  function age(unix) {
    const s = Math.max(0, Math.round(Date.now() / 1000 - unix));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min';
    if (s < 86400) return Math.floor(s / 3600) + ' h';
    return Math.floor(s / 86400) + ' d';
  }

  function details(key, summary, ...content) {
    const d = el('details', { 'data-key': key, open: open.has(key) }, el('summary', { text: summary }), ...content);
    d.addEventListener('toggle', () => (d.open ? open.add(key) : open.delete(key)));
    return d;
  }

  function button(label, action, enabled, onclick) {
    return el('button', { type: 'button', 'data-action': action, disabled: !enabled, onclick, text: label });
  }

  function renderMerchants(ms) {
    const tb = document.querySelector('#merchants tbody');
    tb.replaceChildren(...ms.map((m) => el('tr', {},
      el('td', { class: 'mono', text: m.mch_id }),
      el('td', { class: 'mono', text: m.appid }),
      el('td', { class: 'mono', text: m.sub_mch_ids.join(', ') || '—' }))));
  }

  function renderOrders(orders) {
    const tb = document.querySelector('#orders tbody');
    const rows = [];
    for (const o of orders) {
      const no = o.out_trade_no, mch = o.mch_id;
      const unpaid = o.trade_state === 'NOTPAY';
      const closable = ['NOTPAY', 'PAYERROR', 'USERPAYING'].includes(o.trade_state);
      const actions = el('td', {},
        button('Pay', 'pay', unpaid, () => act('POST', 'orders/' + enc(no) + '/pay' + q(mch))),
        button('Fail', 'fail', unpaid, () => act('POST', 'orders/' + enc(no) + '/fail' + q(mch) + '&err_code=PAYERROR')),
        button('Close', 'close', closable, () => act('POST', 'orders/' + enc(no) + '/close' + q(mch))),
        o.code_url ? details('qr:' + mch + ':' + no, 'QR code',
          el('div', { class: 'qr' },
            qr(o.code_url, '/_sim/orders/' + enc(no) + '/qr.svg' + q(mch)),
            el('div', { class: 'mono', text: o.code_url }))) : null);
      rows.push(el('tr', { 'data-order': no, 'data-mch': mch },
        el('td', { class: 'mono', text: no }),
        el('td', { class: 'mono', text: mch + (o.sub_mch_id ? ' / ' + o.sub_mch_id : '') }),
        el('td', { text: o.trade_type + (o.api === 'v3' ? ' · API v3' : '') }),
        el('td', { class: 'num', text: yuan(o.total_fee) }),
        el('td', {}, el('span', { class: 'badge ' + o.trade_state, 'data-field': 'state', text: o.trade_state })),
        el('td', { class: 'muted', text: age(o.created_at) }),
        actions));
      for (const r of o.refunds) {
        const processing = r.refund_status === 'PROCESSING';
        const rno = r.out_refund_no;
        rows.push(el('tr', { class: 'refunds', 'data-refund': rno },
          el('td', { class: 'mono', text: '↳ ' + rno }),
          el('td', { class: 'mono', text: r.refund_id }),
          el('td', { text: 'refund' }),
          el('td', { class: 'num', text: yuan(r.refund_fee) }),
          el('td', {}, el('span', { class: 'badge ' + r.refund_status, text: r.refund_status })),
          el('td', {}),
          el('td', {},
            button('Complete', 'complete-refund', processing, () => act('POST', 'refunds/' + enc(rno) + '/complete' + q(mch))),
            button('Fail', 'fail-refund', processing, () => act('POST', 'refunds/' + enc(rno) + '/fail' + q(mch))))));
      }
    }
    tb.replaceChildren(...rows);
    document.getElementById('no-orders').hidden = orders.length > 0;
    document.getElementById('order-count').textContent = orders.length ? '(' + orders.length + (orders.length >= 200 ? ' latest' : '') + ')' : '';
  }

  function renderDeliveries(ds) {
    const tb = document.querySelector('#deliveries tbody');
    tb.replaceChildren(...ds.map((d) => {
      const verdict = d.acknowledged ? 'acknowledged' : d.abandoned ? 'abandoned' : d.attempts.length ? 'refused' : 'pending';
      const attempts = el('td', { class: 'attempts' }, ...d.attempts.map((a, i) => el('div', { class: 'attempt', 'data-attempt': String(i + 1) },
        el('span', { class: 'muted', text: '#' + (i + 1) + ' at ' + (a.at_ms / 1000).toFixed(1) + ' s · ' }),
        el('span', { text: (a.status ? 'HTTP ' + a.status + ' · ' : '') }),
        el('span', { class: 'badge ' + (a.acknowledged ? 'acknowledged' : 'refused'), 'data-field': 'verdict', text: a.outcome }),
        a.reply !== null && a.reply !== undefined ? details('reply:' + d.id + ':' + i, 'reply', el('pre', { text: a.reply })) : null)));
      return el('tr', { 'data-delivery': String(d.id), 'data-order': d.out_trade_no },
        el('td', { class: 'mono', text: String(d.id) }),
        el('td', { text: d.kind }),
        el('td', { class: 'mono', text: d.out_trade_no }),
        el('td', { class: 'mono url', text: d.url }),
        el('td', {}, el('span', { class: 'badge ' + verdict, 'data-field': 'verdict', text: verdict })),
        attempts,
        el('td', {},
          button('Redeliver', 'redeliver', true, () => act('POST', 'deliveries/' + d.id + '/redeliver')),
          details('body:' + d.id, 'signed body', el('pre', { text: d.body }))));
    }));
    document.getElementById('no-deliveries').hidden = ds.length > 0;
    document.getElementById('delivery-count').textContent = ds.length ? '(' + ds.length + ')' : '';
  }

  function renderPayouts(s) {
    const tb = document.querySelector('#payouts tbody');
    const row = (kind, no, mch, to, amount, state, ...actions) => el('tr', { 'data-payout': no, 'data-kind': kind },
      el('td', { text: kind }),
      el('td', { class: 'mono', text: no }),
      el('td', { class: 'mono', text: mch }),
      el('td', { class: 'mono', text: to }),
      el('td', { class: 'num', text: yuan(amount) }),
      el('td', {}, el('span', { class: 'badge ' + state.toLowerCase(), 'data-field': 'state', text: state })),
      el('td', {}, ...actions));
    const rows = [
      ...(s.redpacks || []).map((r) => row('red packet' + (r.hb_type === 'GROUP' ? ' (group)' : ''), r.mch_billno, r.mch_id, r.openid, r.amount, r.status,
        button('Claim', 'claim', r.unclaimed > 0, () => act('POST', 'redpacks/' + enc(r.mch_billno) + '/claim' + q(r.mch_id))))),
      ...(s.transfers || []).map((t) => row('transfer', t.partner_trade_no, t.mch_id, t.openid, t.amount, t.status)),
      ...(s.bank_payments || []).map((b) => row('bank card', b.partner_trade_no, b.mch_id, b.true_name + ' ' + b.bank_no.slice(-4), b.amount, b.status)),
    ];
    tb.replaceChildren(...rows);
    document.getElementById('no-payouts').hidden = rows.length > 0;
    document.getElementById('payout-count').textContent = rows.length ? '(' + rows.length + ')' : '';
  }

  function renderContracts(s) {
    const tb = document.querySelector('#contracts tbody');
    const row = (code, mch, plan, user, state, ...actions) => el('tr', { 'data-contract': code },
      el('td', { class: 'mono', text: code }),
      el('td', { class: 'mono', text: mch }),
      el('td', { class: 'mono', text: plan }),
      el('td', { class: 'mono', text: user }),
      el('td', {}, el('span', { class: 'badge ' + state.toLowerCase(), 'data-field': 'state', text: state })),
      el('td', {}, ...actions));
    const rows = [
      ...(s.signings || []).map((p) => row(p.contract_code, p.mch_id, p.plan_id, '—', 'WAITING',
        button('Sign', 'sign', true, () => act('POST', 'signings/' + enc(p.contract_code) + '/sign' + q(p.mch_id))))),
      ...(s.contracts || []).map((c) => row(c.contract_code, c.mch_id, c.plan_id, c.openid, c.valid ? 'SIGNED' : 'TERMINATED')),
    ];
    tb.replaceChildren(...rows);
    document.getElementById('no-contracts').hidden = rows.length > 0;
    document.getElementById('contract-count').textContent = rows.length ? '(' + rows.length + ')' : '';
  }

  function renderFaults(fs) {
    const ul = document.getElementById('faults');
    ul.replaceChildren(...fs.map((f) => el('li', { class: 'mono',
      text: f.endpoint + ': ' + f.kind + (f.err_code ? ' ' + f.err_code : '') + (f.ms !== undefined ? ' ' + f.ms + ' ms' : '') +
        (f.count !== null && f.count !== undefined ? ' × ' + f.count : '') + (f.per_mille !== null && f.per_mille !== undefined ? ' (' + f.per_mille + '‰)' : '') })));
  }

  function render(s) {
    renderMerchants(s.merchants);
    renderOrders(s.orders);
    renderDeliveries(s.deliveries);
    renderPayouts(s);
    renderContracts(s);
    renderFaults(s.faults);
    document.getElementById('scale').textContent = 'time scale ×' + s.time_scale;
  }

  async function poll() {
    const st = document.getElementById('status');
    try {
      const r = await fetch('/_sim/snapshot', { headers: headers(), cache: 'no-store' });
      if (r.status === 401) {
        st.textContent = 'needs the control token: open the URL the simulator printed (…/_sim/#token=…)';
        st.className = 'status down';
        return;
      }
      const text = await r.text();
      st.textContent = 'live';
      st.className = 'status live';
      if (text !== last) {
        last = text;
        snapshot = JSON.parse(text);
        render(snapshot);
      }
    } catch (e) {
      st.textContent = 'disconnected';
      st.className = 'status down';
    }
  }

  document.getElementById('fault-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const fault = { endpoint: f.get('endpoint'), kind: f.get('kind'), count: Number(f.get('count')) || 1 };
    if (fault.kind === 'business_error') fault.err_code = f.get('err_code');
    if (fault.kind === 'delay') fault.ms = Number(f.get('ms')) || 0;
    act('POST', 'faults', fault);
  });
  document.getElementById('clear-faults').addEventListener('click', () => act('DELETE', 'faults'));

  poll();
  setInterval(poll, 1000);
  // Ages move on without new data.
  setInterval(() => snapshot && renderOrders(snapshot.orders), 15000);
})();
