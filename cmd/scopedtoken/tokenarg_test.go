package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken/scopedtokentest"
)

// TestReadTokenArg: the one reading of a pasted token gives the token itself
// for every accepted form and a *tokenInputError without the input for the
// rest.
func TestReadTokenArg(t *testing.T) {
	iss := scopedtokentest.NewIssuer(t)
	tok := iss.Mint()
	for _, f := range acceptedForms {
		t.Run(f.name, func(t *testing.T) {
			got, err := readTokenArg(f.args(t, tok), strictJWS)
			require.NoError(t, err)
			assert.Equal(t, tok, got)
		})
	}
	for _, f := range refusedForms {
		t.Run("refused: "+f.name, func(t *testing.T) {
			_, err := readTokenArg(f.args(t, tok), strictJWS)
			var bad *tokenInputError
			require.ErrorAs(t, err, &bad)
			assertNotEchoed(t, err.Error(), tok)
		})
	}
	t.Run("inspect lets through what it explains", func(t *testing.T) {
		padded := strings.Replace(tok, ".", "=.", 1)
		_, err := readTokenArg(padded, strictJWS)
		assert.ErrorContains(t, err, "the character '='")
		got, err := readTokenArg("Bearer "+padded, diagnosableJWS)
		require.NoError(t, err)
		assert.Equal(t, padded, got)
		_, err = readTokenArg(strings.Replace(tok, ".", ". ", 1), diagnosableJWS)
		assert.ErrorContains(t, err, "whitespace")
	})
}
