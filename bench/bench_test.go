package bench

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestContendersAcceptAndRefuse makes sure every benchmark measures the work
// of accepting a good token: each contender must accept the good token and
// refuse the same token with a broken signature.
func TestContendersAcceptAndRefuse(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(f.alg+"/golang-jwt", func(t *testing.T) {
			parse := floor(f)
			assert.NoError(t, parse(f.good))
			assert.Error(t, parse(f.bad))
		})
		for _, c := range contenders(t, f) {
			t.Run(f.alg+"/"+c.name, func(t *testing.T) {
				for _, tc := range []struct {
					name   string
					token  string
					status int
				}{
					{name: "good", token: f.good, status: http.StatusOK},
					{name: "bad signature", token: f.bad, status: http.StatusUnauthorized},
				} {
					w := &discardWriter{h: make(http.Header)}
					c.h.ServeHTTP(w, request(tc.token))
					assert.Equal(t, tc.status, w.status, tc.name)
				}
			})
		}
	}
}

// discardWriter keeps the status and drops the body.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }

// BenchmarkHarness is the cost of serving the prebuilt request through a
// handler that only writes 200: subtract it from every middleware result.
func BenchmarkHarness(b *testing.B) {
	serveLoop(b, okHandler, "x.y.z")
}

// BenchmarkVerify runs the same request, per algorithm, through every
// contender, and bare golang-jwt ParseWithClaims as the floor.
func BenchmarkVerify(b *testing.B) {
	for _, f := range fixtures(b) {
		b.Run(f.alg+"/golang-jwt", func(b *testing.B) {
			parse := floor(f)
			if err := parse(f.good); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = parse(f.good)
			}
		})
		for _, c := range contenders(b, f) {
			b.Run(f.alg+"/"+c.name, func(b *testing.B) {
				serveLoop(b, c.h, f.good)
			})
		}
	}
}

// serveLoop serves one prebuilt request b.N times after checking that it is
// accepted.
func serveLoop(b *testing.B, h http.Handler, token string) {
	b.Helper()
	req := request(token)
	w := &discardWriter{h: make(http.Header)}
	h.ServeHTTP(w, req)
	if w.status != http.StatusOK {
		b.Fatalf("status %d, want 200", w.status)
	}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}
