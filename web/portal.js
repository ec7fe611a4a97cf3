// custodian's privacy portal page script (web/portal.html, docs/portal.md),
// served at GET /portal-assets/portal.js. Plain DOM and fetch, no framework.
// The session is an HttpOnly cookie the script never sees; it keeps the CSRF
// token the sign-in returns in memory only, so a reload signs the person out.
(function () {
  'use strict';
  var tenant = document.body.getAttribute('data-tenant');
  var api = '/v1/portal/' + encodeURIComponent(tenant);
  var csrf = '';
  var challenge = '';

  function $(id) { return document.getElementById(id); }

  function show(id, on) { $(id).hidden = !on; }

  // Calls the portal API; resolves with {status, body} (body: parsed JSON or null).
  function call(method, path, body) {
    var headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
    return fetch(api + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin'
    }).then(function (r) {
      return r.text().then(function (text) {
        var parsed = null;
        try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = null; }
        return {status: r.status, body: parsed};
      });
    });
  }

  function problem(r) {
    return (r.body && (r.body.detail || r.body.title)) || ('HTTP ' + r.status);
  }

  function text(el, value) { el.textContent = value == null ? '' : String(value); }

  function cell(row, value) {
    var td = document.createElement('td');
    text(td, value);
    row.appendChild(td);
    return td;
  }

  function option(select, value, label) {
    var o = document.createElement('option');
    o.value = value;
    text(o, label);
    select.appendChild(o);
  }

  // The one-time link to an access export.
  function downloadLink(href) {
    var a = document.createElement('a');
    a.href = href;
    text(a, 'Download your data (once)');
    return a;
  }

  var rights = [];

  function render(me) {
    rights = me.rights;
    var tbody = $('requests').querySelector('tbody');
    tbody.textContent = '';
    me.requests.forEach(function (r) {
      var row = document.createElement('tr');
      var right = rights.filter(function (x) { return x.type === r.type; })[0];
      cell(row, right ? right.title : r.type);
      cell(row, r.state.replace('_', ' '));
      cell(row, r.due_at ? r.due_at.slice(0, 10) : '');
      var last = cell(row, '');
      if (r.download_url) last.appendChild(downloadLink(r.download_url));
      row.setAttribute('data-request', r.id);
      tbody.appendChild(row);
    });
    show('requests', me.requests.length > 0);
    show('no-requests', me.requests.length === 0);

    var type = $('request-type');
    var chosen = type.value;
    type.textContent = '';
    rights.forEach(function (r) { option(type, r.type, r.title); });
    if (chosen) type.value = chosen;

    var purpose = $('request-purpose');
    purpose.textContent = '';
    var consents = $('consents').querySelector('tbody');
    consents.textContent = '';
    me.consents.forEach(function (c) {
      var row = document.createElement('tr');
      cell(row, c.label);
      cell(row, c.state.replace('_', ' ') + (c['default'] ? ' (default)' : ''));
      var action = cell(row, '');
      if (c.basis === 'consent') {
        var button = document.createElement('button');
        button.type = 'button';
        var give = c.state !== 'granted';
        text(button, give ? 'Give consent' : 'Withdraw consent');
        button.addEventListener('click', function () { choose(c.purpose, give ? 'granted' : 'withdrawn'); });
        action.appendChild(button);
      }
      row.setAttribute('data-purpose', c.purpose);
      consents.appendChild(row);
      if (c.basis === 'consent' && c.state === 'granted') option(purpose, c.purpose, c.label);
    });

    var category = $('correction-category');
    category.textContent = '';
    me.categories.forEach(function (c) { option(category, c.key, c.label); });
    describe();
  }

  // Records a choice in the consent ledger, then shows the new standing.
  function choose(purpose, state) {
    var result = $('consent-result');
    result.className = '';
    text(result, '');
    call('PUT', '/consents/' + encodeURIComponent(purpose), {state: state}).then(function (r) {
      if (r.status !== 200) {
        result.className = 'error';
        text(result, problem(r));
        return;
      }
      result.className = 'ok';
      text(result, r.body.label + ': ' + (state === 'granted' ? 'consent given.' : 'consent withdrawn.'));
      load();
    });
  }

  function describe() {
    var type = $('request-type').value;
    var right = rights.filter(function (x) { return x.type === type; })[0];
    text($('request-meaning'), right ? right.meaning : '');
    show('purpose-field', type === 'consent_withdrawal');
    show('correction-fields', type === 'correction');
  }

  function load() {
    return call('GET', '/me').then(function (r) {
      if (r.status !== 200) {
        signedOut(problem(r));
        return;
      }
      show('start', false);
      show('home', true);
      render(r.body);
    });
  }

  function signedOut(message) {
    csrf = '';
    show('home', false);
    show('start', true);
    show('contact-form', true);
    show('code-form', false);
    text($('start-error'), message || '');
  }

  $('contact-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var body = {};
    body[$('contact-kind').value] = $('contact').value;
    text($('start-error'), '');
    call('POST', '/codes', body).then(function (r) {
      if (r.status !== 202) {
        text($('start-error'), problem(r));
        return;
      }
      challenge = r.body.challenge;
      var said = r.body.message;
      text($('code-sent'), said.charAt(0).toUpperCase() + said.slice(1) + ' (by ' +
           (r.body.channel === 'email' ? 'email' : 'SMS') + '). It expires in 10 minutes.');
      show('contact-form', false);
      show('code-form', true);
      $('code').focus();
    });
  });

  $('code-form').addEventListener('submit', function (e) {
    e.preventDefault();
    text($('start-error'), '');
    call('POST', '/session', {challenge: challenge, code: $('code').value}).then(function (r) {
      if (r.status !== 201) {
        text($('start-error'), problem(r));
        return;
      }
      csrf = r.body.csrf_token;
      $('code').value = '';
      load();
    });
  });

  $('request-type').addEventListener('change', describe);

  $('request-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var type = $('request-type').value;
    var body = {type: type};
    var details = $('request-details').value;
    if (details) body.details = details;
    if (type === 'consent_withdrawal' && $('request-purpose').value) {
      body.purpose = $('request-purpose').value;
    }
    if (type === 'correction') {
      body.corrections = {};
      body.corrections[$('correction-category').value] = $('correction-value').value;
    }
    var result = $('request-result');
    result.className = '';
    text(result, '');
    call('POST', '/requests', body).then(function (r) {
      if (r.status !== 201) {
        result.className = 'error';
        text(result, problem(r));
        return;
      }
      result.className = 'ok';
      text(result, 'Request ' + r.body.id + ' received: ' + r.body.state.replace('_', ' ') +
           (r.body.due_at ? ', due by ' + r.body.due_at.slice(0, 10) : '') + '.');
      $('request-details').value = '';
      $('correction-value').value = '';
      load().then(function () {
        // The download link exists only in this answer: keep it on the new row.
        if (!r.body.download_url) return;
        var row = document.querySelector('tr[data-request="' + r.body.id + '"]');
        if (!row || row.querySelector('a')) return;
        row.lastChild.appendChild(downloadLink(r.body.download_url));
      });
    });
  });

  $('sign-out').addEventListener('click', function () {
    call('DELETE', '/session').then(function () { signedOut('You are signed out.'); });
  });

  signedOut('');
}());
