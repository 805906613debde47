'use strict';
// The page's script: it asks the site for this page's token, calls the API
// with it in the Authorization header and shows the answer. A page opened
// from an emailed link sends no header: the site moved the link's token into
// an HttpOnly cookie that the browser sends to the API path only.
(async function () {
  const app = document.getElementById('app');
  const result = document.getElementById('result');
  const { call, tokenSpec, apiBase } = app.dataset;
  // show sets the status last: tests wait for #result[data-status].
  const show = (status, text) => {
    result.textContent = text;
    result.dataset.status = String(status);
  };
  try {
    const init = { credentials: 'omit', headers: {} };
    if (tokenSpec) {
      const tr = await fetch('/site/tokens?page=' + encodeURIComponent(location.pathname));
      if (!tr.ok) {
        show(tr.status, 'The site handed out no token for this page (' + tr.status + ').');
        return;
      }
      const token = (await tr.json())[tokenSpec];
      if (!token) {
        show(0, 'The site has no "' + tokenSpec + '" token for this page.');
        return;
      }
      init.headers.Authorization = 'Bearer ' + token;
    } else {
      init.credentials = 'same-origin';
    }
    const resp = await fetch(apiBase + call, init);
    let body = await resp.text();
    try {
      body = JSON.stringify(JSON.parse(body), null, 2);
    } catch (e) {
      // not JSON: shown as sent
    }
    const challenge = resp.headers.get('WWW-Authenticate');
    show(resp.status, resp.status + ' ' + resp.statusText + '\n' +
      (challenge ? 'WWW-Authenticate: ' + challenge + '\n' : '') + '\n' + body);
  } catch (e) {
    show(0, 'The call failed before any answer (network or CORS): ' + e.message);
  }
})();
