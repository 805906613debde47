package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseOtel(t *testing.T) {
	tests := []struct {
		args    []string
		want    string
		wantErr string
	}{
		{args: nil, want: ""},
		{args: []string{"-otel", "stdout"}, want: "stdout"},
		{args: []string{"-otel", "otlp"}, wantErr: `-otel "otlp": the demo knows only -otel stdout`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			c, err := parseConfig(tt.args, func(string) string { return "" }, &stderr)
			if tt.wantErr != "" {
				assert.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.otel)
		})
	}
}

// printedSpan is what the test reads of a span that stdouttrace printed.
type printedSpan struct {
	Name       string
	Attributes []struct {
		Key   string
		Value struct{ Value any }
	}
	Events []struct{ Name string }
}

func (s printedSpan) attr(key string) any {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value.Value
		}
	}
	return nil
}

// TestServeOtelStdout runs the demo with -otel stdout on loopback, sends its
// printed curl commands, and checks that each request's span was printed
// with the decision, the expired token's with error.type=expired.
func TestServeOtelStdout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, ln, pw, time.Now, options{otel: otelStdout})
		pw.Close()
	}()

	var printed strings.Builder
	rd := bufio.NewReader(pr)
	for !strings.Contains(printed.String(), readyLine+"\n") {
		line, err := rd.ReadString('\n')
		printed.WriteString(line)
		require.NoError(t, err, "serve stopped before printing its commands: %s", printed.String())
	}
	var rest bytes.Buffer
	var drained sync.WaitGroup
	drained.Go(func() { _, _ = io.Copy(&rest, rd) })

	cmds := parseCommands(t, printed.String())
	checkCommands(t, cmds)
	client := &http.Client{Timeout: 10 * time.Second}
	for _, c := range cmds {
		status, _, _ := sendCommand(t, client, c)
		require.Equal(t, c.want, status, c.rawURL)
	}
	cancel()
	require.NoError(t, <-done)
	drained.Wait()

	// The rest is JSON (spans, then the metrics at shutdown) and the
	// "shutting down" line.
	var spans []printedSpan
	var metrics int
	dec := json.NewDecoder(strings.NewReader(strings.Replace(rest.String(), "shutting down\n", "", 1)))
	for {
		var raw map[string]json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if _, ok := raw["ScopeMetrics"]; ok {
			metrics++
			continue
		}
		body, err := json.Marshal(raw)
		require.NoError(t, err)
		var s printedSpan
		require.NoError(t, json.Unmarshal(body, &s))
		spans = append(spans, s)
	}
	require.Len(t, spans, len(cmds), "one span per request")
	assert.GreaterOrEqual(t, metrics, 1, "the metrics are printed at shutdown")
	var expired int
	for i, s := range spans {
		assert.NotNil(t, s.attr("scopedtoken.outcome"), "span %d has the decision", i)
		assert.EqualValues(t, cmds[i].want, s.attr("http.response.status_code"))
		if s.attr("error.type") == "expired" {
			expired++
			assert.Equal(t, "refused", s.attr("scopedtoken.outcome"))
			require.Len(t, s.Events, 1)
			assert.Equal(t, "scopedtoken.refused", s.Events[0].Name)
		}
	}
	assert.Equal(t, 1, expired, "the expired token's span says error.type=expired")
}
