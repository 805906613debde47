package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/scopedotel"
	"github.com/scopedtoken/scopedtoken/scopedotel/internal/docprogram"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// lockedBuffer is the program's output: the span and metric exporters write
// to it from different goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// span is what the test reads of one span of stdouttrace's JSON.
type span struct {
	Name        string
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct{ TraceID, SpanID string }
	Attributes  []attr
	Events      []struct {
		Name       string
		Attributes []attr
	}
}

type attr struct {
	Key   string
	Value struct{ Value any }
}

func (s span) attr(key string) any {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value.Value
		}
	}
	return nil
}

// readOutput splits the program's output into its spans and the names of
// the metrics it printed.
func readOutput(t *testing.T, out []byte) (spans []span, metrics []string) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var raw map[string]json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return spans, metrics
		}
		require.NoError(t, err)
		if scopes, ok := raw["ScopeMetrics"]; ok { // a metrics export
			var sm []struct{ Metrics []struct{ Name string } }
			require.NoError(t, json.Unmarshal(scopes, &sm))
			for _, s := range sm {
				for _, m := range s.Metrics {
					metrics = append(metrics, m.Name)
				}
			}
			continue
		}
		var s span
		body, err := json.Marshal(raw)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(body, &s))
		spans = append(spans, s)
	}
}

func get(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestRun runs the documented program against a real JWK Set on loopback,
// sends an allowed request, an expired token and a token of a key published
// after the start (the request waits for a fetch), and reads the spans and
// metrics the stdout exporters printed.
func TestRun(t *testing.T) {
	const path = "/v2/accounts/42/search" // the set names no business: "me" would be refused
	iss := scopedtokentest.NewIssuer(t, scopedtokentest.WithAudience(path))
	srv := iss.JWKSServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, srv.URL, ln, out) }()

	base := "http://" + ln.Addr().String() + path
	require.Equal(t, http.StatusOK, get(t, base, iss.Mint()))
	require.Equal(t, http.StatusUnauthorized, get(t, base, iss.Expired()))
	require.Equal(t, http.StatusOK, get(t, base, iss.Mint(scopedtokentest.SignWith(srv.AddKey("ES256")))))
	cancel()
	require.NoError(t, <-done)

	spans, metrics := readOutput(t, out.b.Bytes())
	var requests, fetches []span
	for _, s := range spans {
		switch s.Name {
		case "GET": // otelhttp names a server span after the method
			requests = append(requests, s)
		case scopedotel.FetchSpanName:
			fetches = append(fetches, s)
		}
	}
	require.Len(t, requests, 3)
	require.Len(t, fetches, 2, "the fetch at start and the one the third request waited for")

	assert.Equal(t, "allowed", requests[0].attr("scopedtoken.outcome"))
	refused := requests[1]
	assert.Equal(t, "refused", refused.attr("scopedtoken.outcome"))
	assert.Equal(t, "expired", refused.attr("error.type"))
	assert.EqualValues(t, 401, refused.attr("http.response.status_code"))
	require.Len(t, refused.Events, 1)
	assert.Equal(t, scopedotel.RefusedEventName, refused.Events[0].Name)

	assert.Equal(t, "initial", fetches[0].attr("scopedtoken.fetch.cause"))
	waited := fetches[1]
	assert.Equal(t, "unknown_kid", waited.attr("scopedtoken.fetch.cause"))
	assert.Equal(t, requests[2].SpanContext.SpanID, waited.Parent.SpanID, "the fetch is a child of the request's span")
	assert.Equal(t, requests[2].SpanContext.TraceID, waited.SpanContext.TraceID)

	assert.Contains(t, metrics, scopedotel.RequestsName)
	assert.Contains(t, metrics, scopedotel.DurationName)
	assert.Contains(t, metrics, scopedotel.HealthyName)
}

// TestDocsShowThisProgram keeps docs/metrics.md and this program identical,
// so the documented program is the one that compiles and runs here.
func TestDocsShowThisProgram(t *testing.T) {
	docprogram.Check(t, "../../../docs/metrics.md", "main.go", "// Command stdout-example")
}
