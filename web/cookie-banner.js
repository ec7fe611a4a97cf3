// custodian's cookie banner. Served by GET /v1/cookies/banner.js?tenant=T as
// `(<this function>)(<config>);` where config is
//   {tenant, organization, policy_version, notice_url, categories: [{id, label,
//    description, required}]}
// from the tenant's policy. A website includes it with one script tag:
//   <script src="https://custodian.example/v1/cookies/banner.js?tenant=interjet" defer></script>
// It shows the categories (required ones always on, the others off until
// chosen), records the visitor's choice with custodian (POST
// /v1/cookies/consents: a random visitor id, the choices, the policy version),
// remembers it in localStorage so a reload shows no banner, and exposes it as
// window.custodianCookies = {tenant, visitor, policy_version, choices} plus a
// `custodian-cookies` event on document. A new policy version asks again.
function (config) {
  'use strict';
  var script = document.currentScript;
  var origin = script && script.src ? new URL(script.src).origin : '';
  var endpoint = origin + '/v1/cookies/consents';
  var storageKey = 'custodian-cookies:' + config.tenant;

  function expose(record) {
    window.custodianCookies = record;
    document.dispatchEvent(new CustomEvent('custodian-cookies', {detail: record}));
  }

  function stored() {
    try {
      var r = JSON.parse(window.localStorage.getItem(storageKey) || 'null');
      return r && r.policy_version === config.policy_version ? r : null;
    } catch (e) {
      return null;
    }
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var s = '';
    for (var i = 0; i < bytes.length; i++) s += ('0' + bytes[i].toString(16)).slice(-2);
    return s;
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text) e.textContent = text;
    return e;
  }

  function show() {
    var previous = (function () {
      try { return JSON.parse(window.localStorage.getItem(storageKey) || 'null'); }
      catch (e) { return null; }
    })();
    var visitor = previous && previous.visitor ? previous.visitor : randomId();
    var banner = el('div', {id: 'custodian-cookie-banner', role: 'dialog',
                            'aria-label': 'Cookie choices',
                            style: 'position:fixed;left:0;right:0;bottom:0;z-index:2147483647;' +
                                   'background:#fff;color:#111;border-top:1px solid #999;' +
                                   'padding:1rem;font:15px/1.4 system-ui,sans-serif'});
    banner.appendChild(el('p', {}, config.organization + ' uses cookies. Choose which ones ' +
                                   'you allow; strictly necessary ones are always on.'));
    var boxes = [];
    config.categories.forEach(function (c) {
      var label = el('label', {style: 'display:block;margin:.25rem 0'});
      var box = el('input', {type: 'checkbox', name: c.id, 'data-category': c.id});
      if (c.required) { box.checked = true; box.disabled = true; }
      label.appendChild(box);
      label.appendChild(document.createTextNode(' ' + c.label +
                                                (c.description ? ': ' + c.description : '')));
      banner.appendChild(label);
      boxes.push({category: c, box: box});
    });
    if (config.notice_url) {
      var more = el('a', {href: origin + config.notice_url, target: '_blank', rel: 'noopener'},
                    'Privacy notice');
      banner.appendChild(more);
    }
    var status = el('p', {role: 'status', style: 'margin:.5rem 0 0'});
    function send(mode) {
      var choices = {};
      boxes.forEach(function (b) {
        choices[b.category.id] = b.category.required ? true
                                 : mode === 'all' ? true
                                 : mode === 'none' ? false : b.box.checked;
      });
      var body = {tenant: config.tenant, visitor: visitor,
                  policy_version: config.policy_version, choices: choices};
      return fetch(endpoint, {method: 'POST', mode: 'cors', credentials: 'omit',
                              headers: {'Content-Type': 'application/json'},
                              body: JSON.stringify(body)})
        .then(function (response) {
          if (!response.ok) throw new Error('HTTP ' + response.status);
          return response.json();
        })
        .then(function (saved) {
          var record = {tenant: config.tenant, visitor: visitor,
                        policy_version: saved.policy_version, choices: saved.choices};
          try { window.localStorage.setItem(storageKey, JSON.stringify(record)); } catch (e) {}
          banner.remove();
          expose(record);
        })
        .catch(function () {
          status.textContent = 'Your choice could not be saved; please try again.';
        });
    }
    var buttons = el('div', {style: 'margin-top:.5rem;display:flex;gap:.5rem;flex-wrap:wrap'});
    [['all', 'Accept all'], ['none', 'Reject all'], ['chosen', 'Save my choices']]
      .forEach(function (b) {
        var button = el('button', {type: 'button', 'data-action': b[0]}, b[1]);
        button.addEventListener('click', function () { send(b[0]); });
        buttons.appendChild(button);
      });
    banner.appendChild(buttons);
    banner.appendChild(status);
    document.body.appendChild(banner);
  }

  var known = stored();
  if (known) {
    expose(known);
  } else if (document.body) {
    show();
  } else {
    document.addEventListener('DOMContentLoaded', show);
  }
}
