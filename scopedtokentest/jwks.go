package scopedtokentest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/MicahParks/jwkset"
)

// JWKSServer serves the issuer's published asymmetric keys as a JWK Set
// (kid, alg and use "sig" on every key). HMAC keys are never served: a secret
// must not be public, and remote sets ignore symmetric keys anyway. Every
// request reads the issuer's keys afresh, so AddKey, Rotate and RemoveKey
// change the served JSON at once; a jwks.Set sees the change after its next
// fetch (jwks.Set.Refresh forces one).
type JWKSServer struct {
	// URL is the JWK Set's address, for jwks.Config.URL.
	URL string
	// Server is the underlying test server (its URL is the base of URL).
	Server *httptest.Server

	issuer   *Issuer
	requests atomic.Int64
	status   atomic.Int32 // when not 0, every request is answered with it
}

// JWKSServer starts (once per issuer) an httptest.Server serving the
// issuer's JWK Set, closed by t.Cleanup when the test ends.
func (i *Issuer) JWKSServer() *JWKSServer {
	i.t.Helper()
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.jwks == nil {
		s := &JWKSServer{issuer: i}
		s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
		s.URL = s.Server.URL + "/.well-known/jwks.json"
		i.t.Cleanup(s.Server.Close)
		i.jwks = s
	}
	return i.jwks
}

// AddKey is Issuer.AddKey: the new key is served from now on.
func (s *JWKSServer) AddKey(alg string) string { s.issuer.t.Helper(); return s.issuer.AddKey(alg) }

// Rotate is Issuer.Rotate: a new default signing key is served from now on,
// next to the previous one.
func (s *JWKSServer) Rotate() string { s.issuer.t.Helper(); return s.issuer.Rotate() }

// RemoveKey is Issuer.RemoveKey: kid is no longer served.
func (s *JWKSServer) RemoveKey(kid string) { s.issuer.t.Helper(); s.issuer.RemoveKey(kid) }

// Requests returns how many requests the server has answered, to check how
// often a jwks.Set fetched.
func (s *JWKSServer) Requests() int { return int(s.requests.Load()) }

// FailWith makes every following request fail with the HTTP status code
// (for example 500), to test that the last good keys are kept; 0 serves the
// keys again.
func (s *JWKSServer) FailWith(status int) { s.status.Store(int32(status)) }

// JSON returns the JWK Set as served now.
func (s *JWKSServer) JSON() []byte {
	s.issuer.t.Helper()
	b, err := s.issuer.jwksJSON()
	if err != nil {
		s.issuer.t.Fatalf("scopedtokentest: %v", err)
	}
	return b
}

func (s *JWKSServer) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if code := s.status.Load(); code != 0 {
		http.Error(w, http.StatusText(int(code)), int(code))
		return
	}
	b, err := s.issuer.jwksJSON()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

func (i *Issuer) jwksJSON() ([]byte, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{}}
	for _, kid := range i.order {
		k := i.keys[kid]
		if !k.published || k.private == nil {
			continue
		}
		// jwkset refuses any alg but EdDSA for an Ed25519 key, so the RFC 9864
		// name is written into the JWK after it is built.
		built := jwkset.ALG(k.alg)
		if k.alg == "Ed25519" {
			built = jwkset.AlgEdDSA
		}
		jwk, err := jwkset.NewJWKFromKey(k.private.Public(), jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: k.kid, ALG: built, USE: jwkset.UseSig},
		})
		if err != nil {
			return nil, err
		}
		m := jwk.Marshal()
		m.ALG = jwkset.ALG(k.alg)
		set.Keys = append(set.Keys, m)
	}
	return json.Marshal(set)
}
