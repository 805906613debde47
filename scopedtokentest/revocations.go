package scopedtokentest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/scopedtoken/scopedtoken"
)

// PropagationBound is how soon a revocation made through one instance must
// be enforced by every other instance that shares the state.
const PropagationBound = time.Second

// OpenRevocations returns two handles on one fresh, shared revocation state,
// as two instances of a service would hold them (the same store twice for a
// store that shares nothing). It registers its own cleanup with t.
type OpenRevocations func(t *testing.T) (first, second scopedtoken.RevocationStore)

// RevocationsConformance checks that a scopedtoken.RevocationStore
// implementation behaves as the middleware needs, through two middlewares
// (each with the verified-token cache on): a revocation or cutoff written
// through the first is enforced by the second within PropagationBound, even
// for a token the second has cached; single-use tokens pass exactly once
// across both, also when 50 goroutines race on each; a request refused for its
// path does not use a single-use token up. A revocation by hash applies to
// a token with a jti too, and values may hold any bytes, line breaks
// included. Tokens are minted with the real clock, since a shared store may
// expire records by its own.
func RevocationsConformance(t *testing.T, open OpenRevocations) {
	t.Run("revocations", func(t *testing.T) { conformRevocations(t, open) })
	t.Run("single_use", func(t *testing.T) { conformSingleUse(t, open) })
	t.Run("single_use_race", func(t *testing.T) { conformSingleUseRace(t, open) })
}

// instance is one middleware over one handle.
type instance struct {
	t *testing.T
	h http.Handler
}

func newInstance(t *testing.T, iss *Issuer, store scopedtoken.Revocations) instance {
	t.Helper()
	cfg := iss.Config()
	cfg.Revocations = store
	mw, err := scopedtoken.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return instance{t: t, h: mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))}
}

// do sends token to path and returns the status and the refusal's reason.
func (in instance) do(token, path string) (int, string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	in.h.ServeHTTP(rec, req)
	var body struct{ Reason string }
	if rec.Code != http.StatusOK {
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
	}
	return rec.Code, body.Reason
}

// expect fails the test unless token at path gets want (and reason).
func (in instance) expect(token, path string, want int, reason string) {
	in.t.Helper()
	if code, got := in.do(token, path); code != want || got != reason {
		in.t.Errorf("%s: got %d %q, want %d %q", path, code, got, want, reason)
	}
}

// eventually waits up to PropagationBound for token at path to get want.
func (in instance) eventually(token, path string, want int, reason string) {
	in.t.Helper()
	deadline := time.Now().Add(PropagationBound)
	for {
		code, got := in.do(token, path)
		if code == want && got == reason {
			return
		}
		if time.Now().After(deadline) {
			in.t.Errorf("%s: still %d %q after %v, want %d %q", path, code, got, PropagationBound, want, reason)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func conformRevocations(t *testing.T, open OpenRevocations) {
	const path = DefaultAudience
	const bizPath = "/v2/accounts/77/search"
	const otherPath = "/v2/accounts/78/search"
	plain := NewIssuer(t)
	business := NewIssuer(t, WithBusiness("42"))
	// A cutoff refuses what was issued before it, so the tokens that must
	// survive one are issued a few seconds after it (within the leeway).
	now := time.Now()
	before, after := IssuedAt(now.Add(-10*time.Second)), IssuedAt(now.Add(5*time.Second))
	hashed, withID := plain.Mint(before), plain.Mint(JWTID("j-hashed"))
	cases := []struct {
		name           string
		iss            *Issuer
		path           string
		revoked, spare string // spare: a token the revocation must not touch
		r              scopedtoken.Revocation
	}{
		{name: "jti", iss: plain, path: path,
			revoked: plain.Mint(JWTID("j-1")), spare: plain.Mint(JWTID("j-2")),
			r: scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "j-1", Until: now.Add(time.Hour)}},
		{name: "hash_of_token_without_jti", iss: plain, path: path,
			revoked: hashed, spare: plain.Mint(before, Subject("other")),
			r: mustTokenRevocation(t, hashed)},
		// A revocation by hash takes effect for a token with a jti too.
		{name: "hash_of_token_with_jti", iss: plain, path: path,
			revoked: withID, spare: plain.Mint(JWTID("j-3")),
			r: scopedtoken.Revocation{Kind: scopedtoken.RevokeHash, Value: scopedtoken.TokenHash(withID)}},
		// Every token the middleware accepts is revocable by itself, control
		// characters in its jti or sub included.
		{name: "jti_with_line_break", iss: plain, path: path,
			revoked: plain.Mint(JWTID("j\n4")), spare: plain.Mint(JWTID("j")),
			r: scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "j\n4", Until: now.Add(time.Hour)}},
		{name: "subject_with_carriage_return", iss: plain, path: path,
			revoked: plain.Mint(before, Subject("alice\r")), spare: plain.Mint(before, Subject("alice")),
			r: scopedtoken.Revocation{Kind: scopedtoken.CutoffSubject, Value: "alice\r", IssuedBefore: now}},
		{name: "business_of_key", iss: business, path: path,
			revoked: business.Mint(before), spare: business.Mint(after),
			r: scopedtoken.Revocation{Kind: scopedtoken.CutoffBusiness, Value: "42", IssuedBefore: now}},
		{name: "business_in_aud", iss: plain, path: bizPath,
			revoked: plain.Mint(before, Audience(bizPath)), spare: plain.Mint(after, Audience(bizPath)),
			r: scopedtoken.Revocation{Kind: scopedtoken.CutoffBusiness, Value: "77", IssuedBefore: now}},
		// A token that names the business among others is refused for all
		// of them: revocation looks at the token, before the request path.
		{name: "business_in_aud_among_others", iss: plain, path: otherPath,
			revoked: plain.Mint(before, Audience(otherPath, bizPath)), spare: plain.Mint(before, Audience(otherPath)),
			r: scopedtoken.Revocation{Kind: scopedtoken.CutoffBusiness, Value: "77", IssuedBefore: now}},
		{name: "subject", iss: plain, path: path,
			revoked: plain.Mint(before, Subject("u-1")), spare: plain.Mint(after, Subject("u-1")),
			r: scopedtoken.Revocation{Kind: scopedtoken.CutoffSubject, Value: "u-1", IssuedBefore: now}},
		{name: "kid", iss: plain, path: path,
			revoked: plain.Mint(before), spare: plain.Mint(after),
			r: scopedtoken.Revocation{Kind: scopedtoken.CutoffKey, Value: plain.KeyID(), IssuedBefore: now}},
		{name: "no_iat_is_before_every_cutoff", iss: plain, path: path,
			revoked: plain.Mint(NoIssuedAt(), Subject("u-2")), spare: plain.Mint(Subject("u-2")),
			r: scopedtoken.Revocation{Kind: scopedtoken.CutoffSubject, Value: "u-2", IssuedBefore: now.Add(-time.Hour)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			first, second := open(t)
			a, b := newInstance(t, c.iss, first), newInstance(t, c.iss, second)
			b.expect(c.revoked, c.path, http.StatusOK, "") // now in b's cache
			if err := first.Revoke(t.Context(), c.r); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			a.expect(c.revoked, c.path, http.StatusUnauthorized, "revoked")
			b.eventually(c.revoked, c.path, http.StatusUnauthorized, "revoked")
			b.expect(c.spare, c.path, http.StatusOK, "")
			a.expect(c.spare, c.path, http.StatusOK, "")
		})
	}
}

func mustTokenRevocation(t *testing.T, token string) scopedtoken.Revocation {
	t.Helper()
	r, err := scopedtoken.TokenRevocation(token)
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != scopedtoken.RevokeHash {
		t.Fatalf("a token without jti is revoked by %s", r.Kind)
	}
	return r
}

func conformSingleUse(t *testing.T, open OpenRevocations) {
	const path = DefaultAudience
	iss := NewIssuer(t)
	cases := []struct {
		name  string
		token string
	}{
		{"with_jti", iss.Mint(Once())},
		{"without_jti", iss.Mint(Once(), Claim("jti", Omit))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			first, second := open(t)
			a, b := newInstance(t, iss, first), newInstance(t, iss, second)
			// Refused for its path: not used up.
			a.expect(c.token, "/v2/accounts/me/other", http.StatusForbidden, "audience_mismatch")
			b.expect(c.token, path, http.StatusOK, "")
			a.expect(c.token, path, http.StatusUnauthorized, "token_used")
			b.expect(c.token, path, http.StatusUnauthorized, "token_used")
		})
	}
	t.Run("revoked_before_use", func(t *testing.T) {
		first, _ := open(t)
		a := newInstance(t, iss, first)
		tok := iss.Mint(Once(), JWTID("once-revoked"))
		if err := first.Revoke(t.Context(), scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "once-revoked"}); err != nil {
			t.Fatal(err)
		}
		a.expect(tok, path, http.StatusUnauthorized, "revoked")
	})
}

// conformSingleUseRace sends one single-use token from 50 goroutines to each
// of two instances at once: exactly one request may pass.
func conformSingleUseRace(t *testing.T, open OpenRevocations) {
	const perInstance = 50
	iss := NewIssuer(t)
	first, second := open(t)
	instances := []instance{newInstance(t, iss, first), newInstance(t, iss, second)}
	tok := iss.Mint(Once())
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results = map[string]int{}
		start   = make(chan struct{})
	)
	for _, in := range instances {
		for range perInstance {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				code, reason := in.do(tok, DefaultAudience)
				mu.Lock()
				results[http.StatusText(code)+" "+reason]++
				mu.Unlock()
			}()
		}
	}
	close(start)
	wg.Wait()
	want := map[string]int{"OK ": 1, "Unauthorized token_used": 2*perInstance - 1}
	if len(results) != len(want) || results["OK "] != 1 || results["Unauthorized token_used"] != want["Unauthorized token_used"] {
		t.Errorf("racing one single-use token: got %v, want %v", results, want)
	}
}
