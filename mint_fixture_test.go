package scopedtoken

import (
	"crypto"
	"net/url"
	"time"
)

// The tests of this package mint their tokens with package mint, which they
// cannot import: mint imports this package. mint_link_test.go, an external
// test file, sets NewMinterForTest and ErrMintForTest before any test runs.
// MintKey, MintClaims and MintConfig have the fields of mint.Key,
// mint.Claims and mint.Config, in their order, so that they convert.
type (
	MintKey struct {
		ID         string
		Algorithm  string
		Secret     []byte
		PrivateKey crypto.Signer
	}
	MintClaims struct {
		Audience            []string
		Query               url.Values
		ExpiresIn           time.Duration
		NoExpiry            bool
		NotBefore           time.Time
		Issuer, Subject, ID string
		Extra               map[string]any
		Once                bool
		DPoPThumbprint      string
	}
	MintConfig struct {
		Key      MintKey
		Lifetime time.Duration
		Now      func() time.Time
		Verify   *Middleware
	}
	// TestMinter is a *mint.Minter.
	TestMinter interface {
		Mint(MintClaims) (string, error)
	}
)

var (
	// NewMinterForTest is mint.New.
	NewMinterForTest func(MintConfig) (TestMinter, error)
	// ErrMintForTest is mint.ErrMint.
	ErrMintForTest error
)
