package names

import (
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

// CheckIssuer is tested where it is used: TestIssuerNameValidation of the
// root package (Key.Issuer) and of package jwks (Config.Issuer).
