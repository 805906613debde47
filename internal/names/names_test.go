package names

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestValidBusiness: a business is one path segment of pchar without
// percent-encoding, and never the word that stands for one.
func TestValidBusiness(t *testing.T) {
	for _, b := range []string{"42", "acme", "a-b_c.d~e", "x:y@z", "!$&'()*+,;="} {
		assert.True(t, ValidBusiness(b), "%q", b)
	}
	for _, b := range []string{"", Me, ".", "..", "a/b", "a%2Fb", "a b", "a?b", "a#b", "é", "a\x00"} {
		assert.False(t, ValidBusiness(b), "%q", b)
	}
	assert.True(t, ValidSegment(Me), "me is a valid segment, only not a business")
}

// CheckIssuer and Issuers are tested where they are used: TestIssuerNameValidation,
// TestIssuersBinding and TestIssuersAccessors of the root package (Key.Issuer,
// Key.Issuers) and TestIssuerNameValidation of package jwks (Config.Issuer,
// Config.Issuers).

// TestParseAud: the grammar's verdict and its words come from one pass. The
// root package's audience tests and mint's TestSpecCheckAudience cover the
// entries one by one; this checks the parts and that every fault explains
// itself.
func TestParseAud(t *testing.T) {
	a := ParseAud("/v2/accounts/", "/v2/accounts/42/search/x/")
	assert.True(t, a.OK())
	assert.Equal(t, "42", a.Business)
	assert.Equal(t, "search/x", a.Tail)
	assert.NoError(t, a.Err("/v2/accounts/", "/v2/accounts/42/search/x/"))
	for _, bad := range []string{"/v1/x/y", "/v2/accounts/me", "/v2/accounts/me//x", "/v2/accounts/../x", "/v2/accounts/me/a%2Fb"} {
		a := ParseAud("/v2/accounts/", bad)
		assert.False(t, a.OK(), bad)
		assert.ErrorContains(t, a.Err("/v2/accounts/", bad), bad)
	}
}

func TestPlainFileName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"k1", true},
		{"2026-12.rsa_A", true},
		{strings.Repeat("k", 200), true},
		{strings.Repeat("k", 201), false},
		{"", false},
		{".hidden", false},
		{"..", false},
		{"a/b", false},
		{`a\b`, false},
		{"a b", false},
		{"k\x00", false},
		{"kélvin", false},
		{"k:1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.ok, PlainFileName(tc.name))
		})
	}
}
