package scopedtoken

import "bytes"

// This file dispatches a claims member on its name's fingerprint
// (strictjson.Sig), which the scan of the name computes in the same pass:
// one integer switch and one comparison with the registered name it may be,
// instead of comparing the name with every registered name and then folding
// it against each of them (docs/security.md, "Strict JSON").

// claim is a registered claim the middleware reads, or what else a member
// name is.
type claim uint8

const (
	claimOther  claim = iota // a claim the middleware does not read
	claimFolded              // a spelling of a registered claim that only encoding/json's folding matches
	claimAud
	claimExp
	claimNbf
	claimIat
	claimQuery
	claimIss
	claimSub
	claimJti
	claimOnce
	claimCnf
)

// claimNames are the names of the claims, by claim; their set is
// jose.ClaimNames (a test checks it).
var claimNames = [...]string{
	claimAud: "aud", claimExp: "exp", claimNbf: "nbf", claimIat: "iat", claimQuery: "query",
	claimIss: "iss", claimSub: "sub", claimJti: "jti", claimOnce: SingleUseClaim, claimCnf: "cnf",
}

// The registered names' fingerprints (strictjson.Sig: the folded length,
// first and last bytes), as constants so that claimOf is one switch; a test
// checks each against strictjson.Sig.
const (
	sigAud   = 3<<16 | 'A'<<8 | 'D'
	sigExp   = 3<<16 | 'E'<<8 | 'P'
	sigNbf   = 3<<16 | 'N'<<8 | 'F'
	sigIat   = 3<<16 | 'I'<<8 | 'T'
	sigQuery = 5<<16 | 'Q'<<8 | 'Y'
	sigIss   = 3<<16 | 'I'<<8 | 'S'
	sigSub   = 3<<16 | 'S'<<8 | 'B'
	sigJti   = 3<<16 | 'J'<<8 | 'I'
	sigOnce  = 4<<16 | 'O'<<8 | 'E'
	sigCnf   = 3<<16 | 'C'<<8 | 'F'
)

// claimOf is the claim a member name (unescaped) with fingerprint sig
// names. Two names that encoding/json's case folding merges share a
// fingerprint, so a name whose fingerprint is no registered name's is no
// spelling of one; a name with a registered name's fingerprint is that claim
// when it is the name exactly, claimFolded when it folds to it (the Kelvin
// sign and the long s included), and otherwise claimOther.
func claimOf(sig uint64, name []byte) claim {
	var c claim
	switch sig {
	case sigAud:
		c = claimAud
	case sigExp:
		c = claimExp
	case sigNbf:
		c = claimNbf
	case sigIat:
		c = claimIat
	case sigQuery:
		c = claimQuery
	case sigIss:
		c = claimIss
	case sigSub:
		c = claimSub
	case sigJti:
		c = claimJti
	case sigOnce:
		c = claimOnce
	case sigCnf:
		c = claimCnf
	default:
		return claimOther
	}
	switch r := claimNames[c]; {
	case string(name) == r:
		return c
	case bytes.EqualFold(name, []byte(r)):
		return claimFolded
	}
	return claimOther
}
