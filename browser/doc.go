// Package browser holds the tests that drive a real Chromium (headless,
// through chromedp) through the browser flows of docs/browser.md: a page
// that calls the API with its own token, the same from another origin
// through CORS, and an emailed link that lands on the site. It is a module
// of its own so that chromedp stays out of the library's and the router
// adapters' dependencies. The tests need the chromium binary; without it
// they fail when CI is set and skip otherwise. TestDPoPOutsideImplementation
// checks DPoP (docs/dpop.md) against proofs made by panva's dpop, which it
// installs with npm ci from dpopnode/package-lock.json and runs with Node:
// without node and npm it fails, naming the apt-get command.
package browser
