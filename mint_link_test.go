package scopedtoken_test

import (
	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
)

// init gives the tests of package scopedtoken the minter they sign their
// tokens with (see mint_fixture_test.go): they cannot import mint, which
// imports scopedtoken, but this external test package can.
func init() {
	scopedtoken.ErrMintForTest = mint.ErrMint
	scopedtoken.NewMinterForTest = func(cfg scopedtoken.MintConfig) (scopedtoken.TestMinter, error) {
		m, err := mint.New(mint.Config{Key: mint.Key(cfg.Key), Lifetime: cfg.Lifetime, Now: cfg.Now, Verify: cfg.Verify})
		if err != nil {
			return nil, err
		}
		return linkedMinter{m}, nil
	}
}

type linkedMinter struct{ m *mint.Minter }

func (l linkedMinter) Mint(c scopedtoken.MintClaims) (string, error) { return l.m.Mint(mint.Claims(c)) }
