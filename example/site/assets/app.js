'use strict';
// The page's script: it asks the site for this page's token, calls the API
// with it in the Authorization header and shows the answer. A page opened
// from an emailed link sends no header: the site moved the link's token into
// an HttpOnly cookie that the browser sends to the API path only.
//
// With DPoP (data-dpop, docs/browser.md and docs/dpop.md, RFC 9449) the page
// first makes an ECDSA P-256 key that WebCrypto keeps non-extractable: its
// script can sign with it but nobody can read it out. It gets its tokens
// bound to that key (POST /site/tokens with a proof) and sends a fresh proof
// with every API call, so a copy of the token alone is worthless.
(async function () {
  const app = document.getElementById('app');
  const result = document.getElementById('result');
  const { call, tokenSpec, apiBase, dpop } = app.dataset;
  // show sets the status last: tests wait for #result[data-status].
  const show = (status, text) => {
    result.textContent = text;
    result.dataset.status = String(status);
  };
  try {
    const init = { credentials: 'omit', headers: {} };
    const target = new URL(apiBase + call, location.href);
    let note = '';
    if (tokenSpec) {
      const tokensURL = '/site/tokens?page=' + encodeURIComponent(location.pathname);
      let prover = null;
      const tokenInit = {};
      if (dpop) {
        if (!crypto.subtle) {
          show(0, 'DPoP needs WebCrypto, which browsers offer on https and loopback origins only.');
          return;
        }
        prover = await newProver();
        // htu is the endpoint's URL without its query (RFC 9449 §4.2).
        tokenInit.method = 'POST';
        tokenInit.headers = { DPoP: await prover.proof('POST', location.origin + '/site/tokens') };
      }
      const tr = await fetch(tokensURL, tokenInit);
      if (!tr.ok) {
        show(tr.status, 'The site handed out no token for this page (' + tr.status + ').');
        return;
      }
      const token = (await tr.json())[tokenSpec];
      if (!token) {
        show(0, 'The site has no "' + tokenSpec + '" token for this page.');
        return;
      }
      if (prover) {
        init.headers.Authorization = 'DPoP ' + token;
        init.headers.DPoP = await prover.proof('GET', target.origin + target.pathname, token);
        note = 'Sent with Authorization: DPoP and a proof signed by an ECDSA P-256 key (extractable: ' +
          prover.extractable + ').\n';
      } else {
        init.headers.Authorization = 'Bearer ' + token;
      }
    } else {
      init.credentials = 'same-origin';
    }
    const resp = await fetch(target.href, init);
    let body = await resp.text();
    try {
      body = JSON.stringify(JSON.parse(body), null, 2);
    } catch (e) {
      // not JSON: shown as sent
    }
    const challenge = resp.headers.get('WWW-Authenticate');
    show(resp.status, resp.status + ' ' + resp.statusText + '\n' + note +
      (challenge ? 'WWW-Authenticate: ' + challenge + '\n' : '') + '\n' + body);
  } catch (e) {
    show(0, 'The call failed before any answer (network or CORS): ' + e.message);
  }
})();

// newProver makes the page's DPoP key and returns what signs its proofs.
async function newProver() {
  const enc = new TextEncoder();
  const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const part = (value) => b64url(enc.encode(JSON.stringify(value)));
  // extractable false: the private key never leaves WebCrypto. The public
  // key of a pair is exportable all the same.
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const header = part({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } });
  return {
    extractable: pair.privateKey.extractable,
    // proof signs a proof for one request: htm, htu (no query, no
    // fragment), now, a random jti and, with a token, ath, its SHA-256.
    async proof(htm, htu, token) {
      const claims = {
        jti: b64url(crypto.getRandomValues(new Uint8Array(16))),
        htm,
        htu,
        iat: Math.floor(Date.now() / 1000),
      };
      if (token) {
        claims.ath = b64url(await crypto.subtle.digest('SHA-256', enc.encode(token)));
      }
      const input = header + '.' + part(claims);
      // WebCrypto's ECDSA signature is r||s, the form JWS uses (RFC 7518 §3.4).
      const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, enc.encode(input));
      return input + '.' + b64url(sig);
    },
  };
}
