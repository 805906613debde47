package scopedtoken_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
)

// BenchmarkOnDecision is a cached HS256 request with and without an
// OnDecision that does nothing: the difference is what reporting a decision
// costs, its Duration (two clock reads) included. Without OnDecision the
// clock is never read.
func BenchmarkOnDecision(b *testing.B) {
	alg := benchAlgs(b)[0]
	tok := benchMint(b, alg.sign, mint.Claims{Audience: []string{benchAud}, Query: benchQuery})
	set, err := scopedtoken.StaticKeys(alg.verify)
	if err != nil {
		b.Fatal(err)
	}
	var sink scopedtoken.Decision
	for _, tc := range []struct {
		name       string
		onDecision func(context.Context, scopedtoken.Decision)
	}{
		{name: "none"},
		{name: "set", onDecision: func(_ context.Context, d scopedtoken.Decision) { sink = d }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m, err := scopedtoken.New(scopedtoken.Config{Keys: set, Now: benchClock, AllowMeWithoutBusiness: true, OnDecision: tc.onDecision})
			if err != nil {
				b.Fatal(err)
			}
			runBench(b, m.Handler(okHandler), benchRequest(benchTarget, tok), http.StatusOK)
		})
	}
	_ = sink
}
