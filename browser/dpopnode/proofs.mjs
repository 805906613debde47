// proofs.mjs makes DPoP proofs with panva's dpop (an implementation apart
// from scopedtoken's) for browser/dpop_node_test.go, over stdin and stdout,
// one JSON object a line:
//   out: {"jkt", "tokenProof"}  the key's RFC 7638 thumbprint, and a proof
//                               for POST tokenURL (argv[3]), as a client
//                               asks a token endpoint for a bound token
//   in:  {"url", "otherURL", "token", "otherToken"}
//   out: the proofs named below, for GET url with token unless named so
// The keys are WebCrypto keys made non-extractable, as a browser page's are.
import * as DPoP from 'dpop';
import * as readline from 'node:readline';

const alg = process.argv[2];
const tokenURL = process.argv[3];
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

const key = await DPoP.generateKeyPair(alg);
const other = await DPoP.generateKeyPair(alg);
console.log(JSON.stringify({
  jkt: await DPoP.calculateThumbprint(key.publicKey),
  tokenProof: await DPoP.generateProof(key, tokenURL, 'POST'),
}));

const { value } = await lines.next();
const { url, otherURL, token, otherToken } = JSON.parse(value);
const proof = (k, u, method, t) => DPoP.generateProof(k, u, method, undefined, t);
console.log(JSON.stringify({
  good: await proof(key, url, 'GET', token),
  aged: await proof(key, url, 'GET', token),
  wrongMethod: await proof(key, url, 'POST', token),
  wrongURL: await proof(key, otherURL, 'GET', token),
  wrongKey: await proof(other, url, 'GET', token),
  wrongAth: await proof(key, url, 'GET', otherToken),
  noAth: await proof(key, url, 'GET'),
}));
