package scopedtoken_test

import (
	"testing"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

func TestMemoryRevocationsConformance(t *testing.T) {
	scopedtokentest.RevocationsConformance(t, func(*testing.T) (scopedtoken.Revocations, scopedtoken.Revocations) {
		s := scopedtoken.NewMemoryRevocations(nil)
		return s, s
	})
}
