package sizeclass

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRoundMatchesRuntime: Round is the capacity the runtime gives a byte
// slice grown from nothing to n bytes, which it rounds up to the size class
// (or to whole pages) exactly as an allocation of n bytes is rounded.
func TestRoundMatchesRuntime(t *testing.T) {
	src := make([]byte, 100000)
	for n := 1; n <= len(src); n++ {
		if n > 33000 {
			n = min(n+97, len(src)) // whole pages above the largest class: a sample is enough
		}
		if got, want := Round(n), cap(append([]byte(nil), src[:n]...)); got != want {
			t.Fatalf("Round(%d) = %d, the runtime allocates %d", n, got, want)
		}
	}
	assert.Zero(t, Round(0))
}

func TestStringAndObject(t *testing.T) {
	for _, tc := range []struct{ n, str, obj int }{
		{0, 0, 0}, {1, 0, 8}, {2, 2, 8}, {15, 15, 16}, {16, 16, 16}, {17, 24, 24}, {512, 512, 512}, {513, 576, 576}, {520, 576, 576}, {521, 576, 576},
		{569, 576, 640},
	} {
		assert.Equal(t, tc.str, String(tc.n), "String(%d)", tc.n)
		assert.Equal(t, tc.obj, Object(tc.n), "Object(%d)", tc.n)
	}
}

func TestCeilPow2(t *testing.T) {
	for n, want := range map[int]int{1: 1, 2: 2, 3: 4, 4: 4, 5: 8, 1000: 1024, 1024: 1024, 1025: 2048} {
		assert.Equal(t, want, CeilPow2(n), "CeilPow2(%d)", n)
	}
}
