package scopedtoken

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestZeroToken: every method of the zero Token answers "none" without
// panicking.
func TestZeroToken(t *testing.T) {
	var tok Token
	assert.Empty(t, tok.KeyID())
	assert.Empty(t, tok.Algorithm())
	assert.Empty(t, tok.BusinessID())
	assert.Nil(t, tok.Audience())
	assert.Zero(t, tok.Query().Len())
	assert.Nil(t, tok.Query().URLValues())
	assert.Nil(t, tok.Query().Names())
	assert.Empty(t, tok.Query().Encode())
	assert.True(t, tok.ExpiresAt().IsZero())
	assert.True(t, tok.NotBefore().IsZero())
	assert.True(t, tok.IssuedAt().IsZero())
	assert.Empty(t, tok.Issuer())
	assert.Empty(t, tok.Subject())
	assert.Empty(t, tok.ID())
	var claims map[string]any
	assert.Error(t, tok.DecodeClaims(&claims), "no claims to decode")
}

// scribbler is a json.Unmarshaler that overwrites the JSON it is given, as
// a careless one might reuse it as a buffer.
type scribbler struct{}

func (scribbler) UnmarshalJSON(data []byte) error {
	for i := range data {
		data[i] = ' '
	}
	return nil
}

// TestDecodeClaimsSharesNothing: what DecodeClaims fills in (raw JSON and
// byte slices too) is the caller's own, and the JSON it decodes from is its
// own too: changing either, even from an Unmarshaler while decoding, changes
// neither what a later cached request decodes nor what Verify returns.
func TestDecodeClaimsSharesNothing(t *testing.T) {
	m := newTestMiddleware(t, nil)
	claims := with(func(c map[string]any) {
		c["iss"] = "issuer"
		c["tenant"] = map[string]any{"id": "t1"}
		c["blob"] = []byte("secret bytes")
		c["scribe"] = map[string]any{"x": 1}
	})
	token := hsToken(t, claims)
	type custom struct {
		Tenant json.RawMessage `json:"tenant"`
		Blob   []byte          `json:"blob"`
		Iss    string          `json:"iss"`
		Scribe scribbler       `json:"scribe"`
	}
	var seen []string // what each request decoded, before it changed it
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := FromContext(r.Context())
		require.True(t, ok)
		var c custom
		require.NoError(t, tok.DecodeClaims(&c))
		seen = append(seen, string(c.Tenant)+" "+string(c.Blob)+" "+c.Iss)
		for i := range c.Tenant {
			c.Tenant[i] = 'X'
		}
		for i := range c.Blob {
			c.Blob[i] = 'X'
		}
	}))
	for range 3 { // a miss, then cache hits
		h.ServeHTTP(httptest.NewRecorder(), bearer("/v2/accounts/me/search", token))
	}
	want := `{"id":"t1"} secret bytes issuer`
	assert.Equal(t, []string{want, want, want}, seen)
	tok, err := m.Verify(t.Context(), token, "/v2/accounts/me/search")
	require.NoError(t, err)
	var c custom
	require.NoError(t, tok.DecodeClaims(&c))
	assert.JSONEq(t, `{"id":"t1"}`, string(c.Tenant))
	assert.Equal(t, testNow.Add(time.Minute).Unix(), tok.ExpiresAt().Unix())
}
