package main

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunCompletes runs a tiny load test: both servers must answer 200 to
// every request (run fails otherwise) and both must complete requests.
func TestRunCompletes(t *testing.T) {
	res, err := run(options{duration: 200 * time.Millisecond, maxRequests: 300, rounds: 1, concurrency: 4}, io.Discard)
	require.NoError(t, err)
	u, g := res.medians()
	assert.Positive(t, u)
	assert.Positive(t, g)
	assert.Positive(t, res.pairedRatio())
}

func TestPairedRatio(t *testing.T) {
	res := result{unguarded: []float64{100, 200, 400}, guarded: []float64{90, 200, 200}}
	assert.InDelta(t, 0.9, res.pairedRatio(), 1e-9) // ratios 0.9, 1, 0.5
}

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{name: "empty", in: nil, want: 0},
		{name: "odd", in: []float64{3, 1, 2}, want: 2},
		{name: "even", in: []float64{4, 1, 3, 2}, want: 2.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, median(tc.in))
		})
	}
}

// TestRunFloodAndHotSet runs a tiny flood with a hot set: every request is
// answered 200 and the hot tokens' requests are counted.
func TestRunFloodAndHotSet(t *testing.T) {
	res, err := run(options{duration: 200 * time.Millisecond, maxRequests: 400, rounds: 1, concurrency: 4, flood: 500, hot: 10}, io.Discard)
	require.NoError(t, err)
	u, g := res.medians()
	assert.Positive(t, u)
	assert.Positive(t, g)
	assert.Positive(t, res.hotRequests)
	assert.LessOrEqual(t, res.hotHits, res.hotRequests)
	assert.Positive(t, res.hitRate(), "a hot token is cached after it was seen twice")
}
