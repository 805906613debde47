package integrations_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/integrations/internal/demotest"
	"github.com/scopedtoken/scopedtoken/mint"
)

// wsServer serves an echo WebSocket behind the middleware. accept chooses the
// subprotocols the handler's library may select, from the offered ones as the
// handler sees them; seen receives that view of Sec-WebSocket-Protocol.
func wsServer(t *testing.T, mw *scopedtoken.Middleware, accept func(offered []string) []string, seen chan<- []string) *httptest.Server {
	t.Helper()
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offered := offeredProtocols(r.Header)
		seen <- offered
		tok, ok := scopedtoken.FromContext(r.Context())
		if !ok {
			http.Error(w, "no token", http.StatusInternalServerError)
			return
		}
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: accept(offered)})
		if err != nil {
			return // Accept has answered the client
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, []byte(string(msg)+" from business "+tok.BusinessID())); err != nil {
			return
		}
		c.Close(websocket.StatusNormalClosure, "")
	})
	srv := httptest.NewServer(mw.Handler(echo))
	t.Cleanup(srv.Close)
	return srv
}

// offeredProtocols splits Sec-WebSocket-Protocol as WebSocket libraries do.
func offeredProtocols(h http.Header) []string {
	var out []string
	for _, line := range h.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(line, ",") {
			out = append(out, strings.TrimSpace(p))
		}
	}
	return out
}

// TestWebSocketProtocolHandshake runs real WebSocket handshakes through the
// middleware with the token in the subprotocols, as a browser's
// new WebSocket(url, ["access_token", token]) sends it.
func TestWebSocketProtocolHandshake(t *testing.T) {
	kit := demotest.NewKitWith(t, scopedtoken.Config{
		TokenSources: []scopedtoken.TokenSource{scopedtoken.WebSocketProtocol{}},
	})
	token, err := kit.Minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/stream"}})
	require.NoError(t, err)
	expired, err := kit.Minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/stream"}, ExpiresIn: -time.Hour})
	require.NoError(t, err)
	tampered := token[:len(token)-2] + "AA"

	// The handler's library may select only the marker: the usual setup.
	markerOnly := func([]string) []string { return []string{scopedtoken.DefaultWebSocketMarker} }
	// A careless handler that would select whatever the client offered,
	// preferring the last: it must still never be able to select the token.
	anyOffered := func(offered []string) []string {
		out := slices.Clone(offered)
		slices.Reverse(out)
		return out
	}

	tests := []struct {
		name       string
		accept     func([]string) []string
		protocols  []string
		target     string
		wantStatus int      // of a failed handshake; 0 when it succeeds
		wantSeen   []string // the handler's view of the offered subprotocols
		wantProto  string
	}{
		{name: "token after the marker", accept: markerOnly, protocols: []string{"access_token", token},
			wantSeen: []string{"access_token"}, wantProto: "access_token"},
		{name: "token among other subprotocols", accept: markerOnly, protocols: []string{"chat.v1", "access_token", token},
			wantSeen: []string{"chat.v1", "access_token"}, wantProto: "access_token"},
		{name: "careless handler never selects the token", accept: anyOffered, protocols: []string{"chat.v1", "access_token", token},
			wantSeen: []string{"chat.v1", "access_token"}, wantProto: "access_token"},
		{name: "no subprotocols", accept: markerOnly, wantStatus: http.StatusUnauthorized},
		{name: "no token", accept: markerOnly, protocols: []string{"chat.v1"}, wantStatus: http.StatusUnauthorized},
		{name: "marker without a token", accept: markerOnly, protocols: []string{"chat.v1", "access_token"}, wantStatus: http.StatusBadRequest},
		{name: "expired token", accept: markerOnly, protocols: []string{"access_token", expired}, wantStatus: http.StatusUnauthorized},
		{name: "forged token", accept: markerOnly, protocols: []string{"access_token", tampered}, wantStatus: http.StatusUnauthorized},
		{name: "outside the audience", accept: markerOnly, protocols: []string{"access_token", token}, target: "/v2/accounts/me/search",
			wantStatus: http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen := make(chan []string, 1)
			srv := wsServer(t, kit.Middleware, tc.accept, seen)
			target := tc.target
			if target == "" {
				target = "/v2/accounts/me/stream"
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+target,
				&websocket.DialOptions{Subprotocols: tc.protocols})
			if resp != nil && resp.Body != nil {
				defer resp.Body.Close()
			}
			if tc.wantStatus != 0 {
				require.Error(t, err, "the handshake must fail")
				require.NotNil(t, resp)
				assert.Equal(t, tc.wantStatus, resp.StatusCode)
				assert.True(t, strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Bearer realm="api"`))
				assert.Empty(t, resp.Header.Get("Sec-WebSocket-Protocol"))
				assert.Empty(t, seen, "the handler must not run")
				return
			}
			require.NoError(t, err)
			defer c.CloseNow()
			assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			assert.Equal(t, tc.wantProto, c.Subprotocol())
			assert.NotContains(t, resp.Header.Get("Sec-WebSocket-Protocol"), token, "the token is never the selected subprotocol")
			assert.Equal(t, tc.wantSeen, <-seen, "the handler's view of the header lacks the token")

			require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("hello")))
			_, reply, err := c.Read(ctx)
			require.NoError(t, err)
			assert.Equal(t, "hello from business 42", string(reply))
			_, _, err = c.Read(ctx)
			assert.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(err))
		})
	}
}
