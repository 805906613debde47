package jwks

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/internal/testkit"
)

// logRecorder captures a logger's output as JSON lines; safe for the
// background refresh to write while the test reads.
type logRecorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logRecorder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logRecorder) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(l, nil)) }

func (l *logRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// records returns the logged records whose message is msg.
func (l *logRecorder) records(t testing.TB, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// skipReason returns the reason logged for the skipped JWK kid, or "".
func (l *logRecorder) skipReason(t testing.TB, kid string) string {
	t.Helper()
	for _, rec := range l.records(t, "scopedtoken: JWK skipped") {
		if rec["kid"] == kid {
			reason, _ := rec["reason"].(string)
			return reason
		}
	}
	return ""
}

// withMember returns the JWK j with one more member (raw JSON text).
func withMember(j json.RawMessage, member string) json.RawMessage {
	return json.RawMessage(strings.TrimSuffix(string(j), "}") + "," + member + "}")
}

// TestJWKSUnusableKeyDoesNotBlockRevocation: one JWK that jwkset cannot take
// is skipped and logged on its own; the good keys published with it are used
// and a key the publisher removed stops working at the next refresh.
func TestJWKSUnusableKeyDoesNotBlockRevocation(t *testing.T) {
	good, removed, other := testkit.NewSigner(t, "good"), testkit.NewSigner(t, "removed"), testkit.NewSigner(t, "other")
	otherJWK := func() json.RawMessage { // the public JWK of other, without use
		return json.RawMessage(strings.Replace(string(other.JWK(t)), `"use":"sig",`, "", 1))
	}
	tests := []struct {
		name   string
		bad    json.RawMessage
		kid    string
		reason string // a part of the logged reason
	}{
		{name: "unknown kty", kid: "bad-kty", bad: json.RawMessage(`{"kty":"ML-DSA","kid":"bad-kty","pub":"AAAA"}`), reason: "unsupported key"},
		{name: "unknown use", kid: "other", bad: withMember(otherJWK(), `"use":"tls"`), reason: "key use"},
		{name: "unknown key_ops", kid: "other", bad: withMember(otherJWK(), `"key_ops":["verify","attest"]`), reason: "key_op"},
		{name: "key_ops not an array", kid: "other", bad: withMember(otherJWK(), `"key_ops":"verify"`), reason: "key_ops"},
		{name: "bad base64 parameter", kid: "bad-x", bad: json.RawMessage(`{"kty":"EC","crv":"P-256","kid":"bad-x","x":"!!","y":"AA"}`), reason: `"x"`},
		{name: "point off the curve", kid: "off-curve", bad: json.RawMessage(`{"kty":"EC","crv":"P-256","kid":"off-curve","x":"AQ","y":"AQ"}`), reason: "curve"},
		{name: "RSA without e", kid: "no-e", bad: json.RawMessage(`{"kty":"RSA","kid":"no-e","n":"AQAB"}`), reason: `"e"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs logRecorder
			srv := testkit.NewJWKSServer(t, testkit.JWKSet(t, good.JWK(t), removed.JWK(t), tt.bad))
			rs := newFaultRemote(t, srv.URL, func(c *Config) { c.Logger = logs.logger() })
			m := remoteMiddleware(t, rs)
			removedToken := removed.Token(t, "")
			code, reason := quickStatus(m, good.Token(t, ""))
			require.Equal(t, http.StatusOK, code, "the good key published next to the unusable one works: %s", reason)
			code, _ = quickStatus(m, removedToken)
			require.Equal(t, http.StatusOK, code, "so does the key about to be removed")

			srv.Serve(testkit.JWKSet(t, good.JWK(t), tt.bad), http.StatusOK, 0)
			require.NoError(t, rs.Refresh(context.Background()))
			code, reason = quickStatus(m, removedToken)
			assert.Equal(t, http.StatusUnauthorized, code, "the removed key stops working, cached results included")
			assert.Equal(t, "unknown_kid", reason)
			code, _ = quickStatus(m, good.Token(t, `,"n":2`))
			assert.Equal(t, http.StatusOK, code)
			code, _ = quickStatus(m, other.Token(t, ""))
			assert.Equal(t, http.StatusUnauthorized, code, "the unusable key is never used")

			assert.Contains(t, logs.skipReason(t, tt.kid), tt.reason, "the skip is logged with its kid and reason")
			var goodJWK struct{ X, Y string }
			require.NoError(t, json.Unmarshal(good.JWK(t), &goodJWK))
			assert.NotContains(t, logs.String(), goodJWK.X, "no key material is logged")
		})
	}
}

// TestJWKSKeyByKeyEdges covers the choices of taking a set key by key: a set
// with no usable key is a successful fetch that removes every key; a kid
// that appears twice is never used, even when one of its copies is
// unusable; a JWK carrying any private member is never used.
func TestJWKSKeyByKeyEdges(t *testing.T) {
	a, b := testkit.NewSigner(t, "a"), testkit.NewSigner(t, "b")
	rsaKey := testkit.Keys(t).RSA
	rsaToken := testkit.SignRaw(t, "RS256", rsaKey, `{"alg":"RS256","kid":"rsa-d"}`, testkit.Claims(""))
	enc := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name string
		set  []byte
		want map[string]int // token -> status after the refresh
	}{
		{name: "only unusable keys", set: testkit.JWKSet(t, withMember(b.JWK(t), `"key_ops":["fly"]`)),
			want: map[string]int{a.Token(t, ""): 401, b.Token(t, ""): 401}},
		{name: "an empty set", set: []byte(`{"keys":[]}`), want: map[string]int{a.Token(t, ""): 401}},
		{name: "a kid twice, one copy unusable", set: testkit.JWKSet(t, a.JWK(t), b.JWK(t), withMember(b.JWK(t), `"key_ops":["fly"]`)),
			want: map[string]int{a.Token(t, ""): 200, b.Token(t, ""): 401}},
		{name: "RSA JWK with d alone", set: testkit.JWKSet(t, a.JWK(t), withMember(testkit.JWK(t, "rsa-d", &rsaKey.PublicKey), `"d":"`+enc(rsaKey.D.Bytes())+`"`)),
			want: map[string]int{a.Token(t, ""): 200, rsaToken: 401}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testkit.NewJWKSServer(t, testkit.JWKSet(t, a.JWK(t), testkit.JWK(t, "rsa-d", &rsaKey.PublicKey)))
			rs := newFaultRemote(t, srv.URL, nil)
			m := remoteMiddleware(t, rs)
			code, _ := quickStatus(m, a.Token(t, ""))
			require.Equal(t, http.StatusOK, code)
			srv.Serve(tt.set, http.StatusOK, 0)
			require.NoError(t, rs.Refresh(context.Background()), "a set that parses is a successful fetch")
			for tok, want := range tt.want {
				code, reason := quickStatus(m, tok)
				assert.Equal(t, want, code, reason)
			}
		})
	}
}
